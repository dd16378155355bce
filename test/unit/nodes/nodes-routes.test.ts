// The nodes API over a fake cluster: list/get/join/drain/activate/remove, the 400s naming the field, 404, the scope,
// and on the single-host engine the documented 409 not_clustered from every route.
import { describe, expect, test } from "bun:test";
import { fakeApp } from "../../support/fakes.ts";
import type { Cluster, ClusterNode } from "../../../src/runtime/cluster.ts";
import { createKey } from "../../../src/core/identity/keys.ts";
import { agentToken } from "../../../src/core/nodes/agent-state.ts";

const node = (id: string, o: Partial<ClusterNode> = {}): ClusterNode => ({
  id,
  hostname: `host-${id}`,
  role: "worker",
  leader: false,
  address: "10.0.0.2",
  availability: "active",
  state: "ready",
  engine_version: "20.10.24",
  resources: { cpus: 2, memory_bytes: 1 << 30 },
  tasks: [],
  ...o,
});

function fakeCluster() {
  const nodes = new Map([
    ["mgr1", node("mgr1", { role: "manager", leader: true, address: "10.0.0.1" })],
    ["wrk1", node("wrk1")],
  ]);
  const removed: Array<[string, boolean]> = [];
  const cluster: Cluster = {
    listNodes: async () => [...nodes.values()],
    findNode: async (id) => nodes.get(id),
    joinCommand: async (role) => ({
      role,
      argv: ["docker", "swarm", "join", "--token", `SWMTKN-${role}`, "10.0.0.1:2377"],
      manager_address: "10.0.0.1",
    }),
    setAvailability: async (id, a) => void (nodes.get(id)!.availability = a),
    removeNode: async (id, force) => void removed.push([id, force]),
  };
  return { cluster, removed };
}

async function clusterApp() {
  const a = await fakeApp({ STAXA_ENGINE: "swarm" });
  const f = fakeCluster();
  (a.runtime as unknown as { cluster: Cluster }).cluster = f.cluster;
  return { a, ...f };
}

describe("nodes on a cluster engine", () => {
  test("lists and gets nodes; 404 for an unknown one", async () => {
    const { a } = await clusterApp();
    const l = await a.call("GET", "/api/v1/nodes");
    expect(l.status).toBe(200);
    expect(l.json.data.map((n: ClusterNode) => [n.id, n.role, n.availability])).toEqual([
      ["mgr1", "manager", "active"],
      ["wrk1", "worker", "active"],
    ]);
    expect((await a.call("GET", "/api/v1/nodes/wrk1")).json.data.hostname).toBe("host-wrk1");
    const missing = await a.call("GET", "/api/v1/nodes/nope1");
    expect([missing.status, missing.json.error.code]).toEqual([404, "not_found"]);
  });

  test("drain then activate answer the node with its new availability", async () => {
    const { a } = await clusterApp();
    const d = await a.call("POST", "/api/v1/nodes/wrk1/drain");
    expect([d.status, d.json.data.availability]).toEqual([200, "drain"]);
    const ac = await a.call("POST", "/api/v1/nodes/wrk1/activate");
    expect([ac.status, ac.json.data.availability]).toEqual([200, "active"]);
  });

  test("join command for a worker by default, a manager on request; a bad role is a 400 naming role", async () => {
    const { a } = await clusterApp();
    const w = await a.call("POST", "/api/v1/nodes/join-token");
    expect(w.json.data).toEqual({
      role: "worker",
      argv: ["docker", "swarm", "join", "--token", "SWMTKN-worker", "10.0.0.1:2377"],
      manager_address: "10.0.0.1",
      // The node agent beside dockerd: the appliance's URL on the manager, and the agents' token (a secret too).
      agent_argv: ["staxa", "agent", "--manager", `http://10.0.0.1:${a.deps.config.port}`, "--token", agentToken(a.deps.box)],
    });
    expect(agentToken(a.deps.box)).toMatch(/^sta_[0-9a-f]{64}$/);
    expect((await a.call("POST", "/api/v1/nodes/join-token?role=manager")).json.data.role).toBe("manager");
    const bad = await a.call("POST", "/api/v1/nodes/join-token?role=king");
    expect([bad.status, bad.json.error.details.field]).toEqual([400, "role"]);
  });

  test("remove: force passed through, a bad force is a 400, the leading manager is refused with 409", async () => {
    const { a, removed } = await clusterApp();
    expect((await a.call("DELETE", "/api/v1/nodes/wrk1?force=true")).status).toBe(204);
    expect((await a.call("DELETE", "/api/v1/nodes/wrk1")).status).toBe(204);
    expect(removed).toEqual([
      ["wrk1", true],
      ["wrk1", false],
    ]);
    const bad = await a.call("DELETE", "/api/v1/nodes/wrk1?force=yes");
    expect([bad.status, bad.json.error.details.field]).toEqual([400, "force"]);
    const leader = await a.call("DELETE", "/api/v1/nodes/mgr1?force=true");
    expect([leader.status, leader.json.error.code]).toEqual([409, "node_in_use"]);
    expect(removed).toHaveLength(2);
  });

  test("a key without nodes scopes gets 403; nodes:read lists but cannot drain", async () => {
    const { a } = await clusterApp();
    const key = (scopes: string[]) =>
      createKey(a.deps.db, { providerId: a.provider.id, name: "k", mode: "live", scopes, expiresAt: null }).raw;
    const reader = key(["nodes:read"]);
    const tenantsOnly = key(["tenants:write"]);
    const as = (key: string, method: string, path: string) =>
      a.app.handle(new Request(`http://localhost${path}`, { method, headers: { authorization: `Bearer ${key}` } }));
    expect((await as(tenantsOnly, "GET", "/api/v1/nodes")).status).toBe(403);
    expect((await as(reader, "GET", "/api/v1/nodes")).status).toBe(200);
    expect((await as(reader, "POST", "/api/v1/nodes/wrk1/drain")).status).toBe(403);
  });
});

describe("nodes on the single-host engine", () => {
  test("every route answers 409 not_clustered, saying which engine and what to set", async () => {
    const a = await fakeApp();
    for (const [method, path] of [
      ["GET", "/api/v1/nodes"],
      ["GET", "/api/v1/nodes/abc"],
      ["POST", "/api/v1/nodes/join-token"],
      ["POST", "/api/v1/nodes/abc/drain"],
      ["POST", "/api/v1/nodes/abc/activate"],
      ["DELETE", "/api/v1/nodes/abc"],
    ] as const) {
      const r = await a.call(method, path);
      expect([method, path, r.status, r.json.error.code]).toEqual([method, path, 409, "not_clustered"]);
      expect(r.json.error.message).toContain("STAXA_ENGINE=swarm");
    }
  });
});
