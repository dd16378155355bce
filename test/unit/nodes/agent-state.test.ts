// GET /api/v1/nodes/agent/state over a fake cluster: the agents' token (401 without it, wrong, or an API key),
// the desired state built from the store and the nodes' tasks, 409 not_clustered on one host, and the engine
// branch: on swarm the appliance host's firewall gets no tenant rules (the agents enforce them).
import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { FakeGit, FakeProxy, FakeRuntime } from "../../support/fakes.ts";
import { FakeFirewall } from "../../support/fake-firewall.ts";
import { testApp } from "../../support/ctx.ts";
import { configureDeployer, idle } from "../../../src/core/deploy/deployer.ts";
import { agentToken } from "../../../src/core/nodes/agent-state.ts";
import { AgentState } from "../../../src/api/agent-models.ts";
import type { Cluster, ClusterNode } from "../../../src/runtime/cluster.ts";

const PATH = "/api/v1/nodes/agent/state";

function node(id: string, address: string, tasks: ClusterNode["tasks"]): ClusterNode {
  return {
    id,
    hostname: id,
    role: "worker",
    leader: false,
    address,
    availability: "active",
    state: "ready",
    engine_version: "20.10",
    resources: { cpus: 1, memory_bytes: 1 },
    tasks,
  };
}

async function swarmApp(engine = "swarm") {
  const runtime = new FakeRuntime();
  const firewall = new FakeFirewall();
  const dataDir = mkdtempSync(join(tmpdir(), "staxa-unit-agent-"));
  const app = testApp(
    { runtime, proxy: new FakeProxy(), git: new FakeGit(), firewall },
    { STAXA_DRAIN_SEC: "0", STAXA_DATA_DIR: dataDir, STAXA_ENGINE: engine },
  );
  configureDeployer(app.deps, { probe: runtime.probe, healthTimeoutMs: 300 });
  const nodes = [
    node("m", "10.0.0.11", [{ tenant: "shop", service: "web", state: "running" }]),
    node("w", "10.0.0.12", [{ tenant: "shop", service: "web", state: "starting" }]),
  ];
  let listed = 0;
  const cluster = {
    listNodes: async () => (listed++, nodes),
  } as unknown as Cluster;
  if (engine === "swarm") (runtime as unknown as { cluster: Cluster }).cluster = cluster;
  const asAgent = (token: string | undefined) =>
    app.app.handle(new Request(`http://localhost${PATH}`, { headers: token ? { authorization: `Bearer ${token}` } : {} }));
  return { ...app, firewall, asAgent, listed: () => listed };
}

describe("GET /nodes/agent/state", () => {
  test("needs the agents' token: none, a wrong one and an API key are 401", async () => {
    const a = await swarmApp();
    for (const t of [undefined, "sta_" + "0".repeat(64), a.key]) {
      const r = await a.asAgent(t);
      expect(r.status).toBe(401);
      expect(await r.text()).not.toContain(agentToken(a.deps.box));
    }
  });

  test("the state: nodes, pool, restricted tenants' allow-lists, inbound rules with the nodes running a task", async () => {
    const a = await swarmApp();
    const mk = async (name: string) => {
      const r = await a.call("POST", "/api/v1/tenants", { name, source_type: "image", image_url: "x/y:1", app_port: 3000 });
      await idle(a.deps);
      return r.json.data.id as string;
    };
    const shop = await mk("shop");
    const locked = await mk("locked");
    await mk("open");
    expect((await a.call("PATCH", `/api/v1/tenants/${locked}`, { egress_mode: "restricted" })).status).toBe(200);
    const out = { direction: "outbound", protocol: "tcp", destination_cidrs: ["1.2.3.0/24"], destination_port: 443 };
    expect((await a.call("POST", `/api/v1/tenants/${locked}/network-rules`, out)).status).toBe(201);
    const inb = {
      direction: "inbound",
      protocol: "tcp",
      target_service: "web",
      target_port: 3000,
      source_cidrs: ["192.0.2.0/24"],
    };
    const rule = (await a.call("POST", `/api/v1/tenants/${shop}/network-rules`, inb)).json.data;
    // the engine branch: on swarm nothing of a tenant's rules reaches the appliance host's firewall
    expect(a.firewall.calls.filter((c) => !c.startsWith("guardHost") && c !== "setup")).toEqual([]);

    const r = await a.asAgent(agentToken(a.deps.box));
    expect(r.status).toBe(200);
    const s = (await r.json()).data;
    expect([...Value.Errors(AgentState, s)].map((e) => `${e.path} ${e.message}`)).toEqual([]);
    expect(s.version).toMatch(/^[0-9a-f]{16}$/);
    expect(s.nodes).toEqual([
      { id: "m", address: "10.0.0.11" },
      { id: "w", address: "10.0.0.12" },
    ]);
    expect(s.tenant_pool).toBe(a.deps.config.tenantSubnetPool);
    expect(s.proxy_ports).toEqual([a.deps.config.httpPort, a.deps.config.httpsPort]);
    expect(s.egress).toEqual([{ tenant: "locked", allow: [{ cidr: "1.2.3.0/24", port: 443, protocol: "tcp" }] }]);
    expect(s.inbound).toEqual([
      {
        id: rule.id,
        port: rule.allocated_port,
        source_cidrs: ["192.0.2.0/24"],
        tenant: "shop",
        service: "web",
        target_port: 3000,
        nodes: ["10.0.0.11"], // the worker's task is not running yet
      },
    ]);
  });

  test("agents polling together share one build of the state per second", async () => {
    const a = await swarmApp();
    const token = agentToken(a.deps.box);
    const answers = await Promise.all([a.asAgent(token), a.asAgent(token), a.asAgent(token)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(a.listed()).toBe(1);
  });

  test("on the single-host engine: 409 not_clustered", async () => {
    const a = await swarmApp("docker");
    const r = await a.asAgent(agentToken(a.deps.box));
    expect(r.status).toBe(409);
    expect((await r.json()).error.code).toBe("not_clustered");
  });
});
