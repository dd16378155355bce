// Issue 21's cluster e2e: a lab swarm of a manager and two workers (each a dockerd in its own network namespace), the
// appliance on the manager's socket with the route follower running (routes follow Swarm's events; no reconciliation
// tick runs in this file) and the cluster registry, a git tenant with 3 replicas (built on the manager, pulled by the
// workers from the registry) spread over the nodes and served through Caddy, then under 20 clients that never
// resend: a redeploy, one worker's engine stopped (its tasks come back on the other nodes, the tenant is degraded
// meanwhile, ready after) and the other worker drained (it ends with no task): not one request fails. Last, a worker
// cut off from the network: only the requests it held are lost.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { Value } from "@sinclair/typebox/value";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { BUSYBOX_IMAGE, ensureTestImages } from "../support/docker.ts";
import { e2eApp, fixtureRepo, viaCaddy } from "../support/e2e-app.ts";
import {
  allowRegistryPulls,
  enableLabBuilds,
  startClusterRegistry,
  type ClusterRegistryHandle,
} from "../support/cluster-registry.ts";
import { cutNodeLink, startSwarmLab, stopNodeEngine, stopSwarmLab, type LabNode, type SwarmLab } from "../support/swarm-lab.ts";
import { startRouteFollower } from "../../src/core/deploy/route-follow.ts";
import { reconcile } from "../../src/core/deploy/reconcile.ts";
import { createContext } from "../../src/cli/context.ts";
import { Node } from "../../src/api/node-models.ts";
import type { ClusterNode } from "../../src/runtime/cluster.ts";

const LAB = "tri";
const BASE = "e2e-swarm-cluster.test";
const ADMIN = 29000 + Math.floor(Math.random() * 300) * 3; // a range no other e2e file uses
const HTTP = ADMIN + 1;
const CLIENTS = 20;
let lab: SwarmLab;
let caddy: TestCaddy;
let registry: ClusterRegistryHandle;
let repo = "";
let h: Awaited<ReturnType<typeof e2eApp>>;
let stopFollower = () => {};
const started = Date.now();

beforeAll(async () => {
  await ensureTestImages();
  // Heartbeat 1 s: Swarm marks a silent node down after ~3 s instead of ~15 s (docs/swarm.md: the production setting).
  lab = await startSwarmLab({ id: LAB, subnet: 5, workers: 2, images: [BUSYBOX_IMAGE], heartbeatSec: 1 });
  await enableLabBuilds(lab.manager.socket);
  for (const w of lab.nodes.slice(1)) await allowRegistryPulls(w, lab.manager.socket);
  registry = await startClusterRegistry(lab.gateway);
  caddy = await startCaddy({ adminPort: ADMIN });
  h = await e2eApp({
    STAXA_ENGINE: "swarm",
    STAXA_DOCKER_SOCKET: lab.manager.socket,
    STAXA_BASE_DOMAIN: BASE,
    STAXA_PUBLIC_SCHEME: "http",
    STAXA_HTTP_PORT: String(HTTP),
    STAXA_HTTPS_PORT: String(ADMIN + 2),
    STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
    STAXA_DRAIN_SEC: "1",
    STAXA_HEALTH_TIMEOUT_SEC: "30",
    STAXA_ALLOW_FILE_REPOS: "1",
    ...registry.env,
  });
  repo = await fixtureRepo("unused", { cmd: ["sh", "-c", SERVE] });
  stopFollower = startRouteFollower(h.ctx);
}, 300_000);

afterAll(async () => {
  stopFollower();
  await h?.resolver.kill();
  await caddy?.stop();
  await registry?.stop();
  await stopSwarmLab(LAB);
  for (const d of [h?.dataDir, repo]) if (d) rmSync(d, { recursive: true, force: true });
  console.log(`swarm cluster e2e: ${((Date.now() - started) / 1000).toFixed(1)} s including lab set-up and teardown`);
}, 120_000);

const name = "triweb";
const host = `${name}.${BASE}`;
/**
 * busybox httpd serving the task's hostname (its container id): which task answered. On SIGTERM it stops as servers
 * do: it closes its listener (new dials are refused, Caddy sends them elsewhere) and lets requests in flight finish.
 * An app killed mid-response loses that response whatever the platform does (docs/swarm.md).
 */
const SERVE =
  "mkdir -p /w && hostname > /w/index.html && { httpd -f -p $PORT -h /w & pid=$!; }; trap 'kill $pid; sleep 1; exit 0' TERM; wait";
let tenantId = "";

/** `docker …` against one lab node's engine; its output, or the error naming the command. */
async function dockerOn(node: LabNode, ...args: string[]): Promise<string> {
  const p = Bun.spawn(lab.docker(node, ...args), { stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`docker ${args.join(" ")}: ${err.trim()}`);
  return out.trim();
}

const nodes = async (): Promise<ClusterNode[]> => (await h.call("GET", "/api/v1/nodes")).json.data;
const nodeOf = (rows: ClusterNode[], n: LabNode) => rows.find((r) => r.hostname === n.name)!;
const status = async (): Promise<string> => (await h.call("GET", `/api/v1/tenants/${tenantId}`)).json.data.status;
async function routed(): Promise<string[]> {
  const route = (await h.ctx.proxy.listRoutes()).find((x) => x.id === `${name}.web`);
  return route ? (route.upstreams ?? [route.upstream]) : [];
}
/** 20 clients (timedLoad); each failure names when it was sent, in ms after the clients started. */
function load() {
  const started = Date.now();
  const clients = timedLoad();
  return {
    async stop() {
      const { ok, failures } = await clients.stop();
      return { ok, failures: failures.map((f) => `sent at ${f.sentAt - started} ms: ${f.error}`) };
    },
  };
}

/** Like `traffic`, recording when each failed request was sent (what was in flight at a given moment). */
function timedLoad() {
  let done = false;
  let ok = 0;
  const failures: Array<{ sentAt: number; error: string }> = [];
  const loop = async () => {
    while (!done) {
      const sentAt = Date.now();
      try {
        const r = await viaCaddy(HTTP, host);
        if (r.status === 200 && r.body.trim()) ok++;
        else failures.push({ sentAt, error: `${r.status} ${r.body.slice(0, 80)}` });
      } catch (e) {
        failures.push({ sentAt, error: String(e) });
      }
    }
  };
  const running = Array.from({ length: CLIENTS }, loop);
  return {
    async stop() {
      done = true;
      await Promise.all(running);
      return { ok, failures };
    },
  };
}

/** Polls until `done` holds (or `ms` pass); returns how long it took, -1 when it never did. */
async function until(ms: number, done: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await done()) return Date.now() - t0;
    await Bun.sleep(200);
  }
  return -1;
}

test("the nodes API lists the manager and both workers, ready and active, in the documented model; the join answer", async () => {
  const rows = await nodes();
  expect(rows.map((n) => [n.hostname, n.role, n.address, n.state, n.availability]).sort()).toEqual(
    lab.nodes.map((n) => [n.name, n.role, n.ip, "ready", "active"]).sort(),
  );
  for (const n of rows) expect([...Value.Errors(Node, n)].map((e) => `${e.path} ${e.message}`)).toEqual([]);
  const join = (await h.call("POST", "/api/v1/nodes/join-token")).json.data;
  expect(join.argv.slice(0, 4)).toEqual(["docker", "swarm", "join", "--token"]);
  expect(join.argv[5]).toBe(`${lab.manager.ip}:2377`);
  expect(join.agent_argv.slice(0, 3)).toEqual(["staxa", "agent", "--manager"]);
  expect(join.registry.ca_pem).toContain("BEGIN CERTIFICATE");
});

test("a git tenant with 3 replicas (pulled by the workers from the registry) runs them across the nodes and Caddy serves every one", async () => {
  const r = await h.call("POST", "/api/v1/tenants", {
    name,
    source_type: "github",
    repo_url: `file://${repo}`,
    app_port: 3000,
    replicas: 3,
  });
  expect(r.status).toBe(202);
  tenantId = r.json.data.id;
  const depId = (await h.call("GET", `/api/v1/tenants/${tenantId}/deployments`)).json.data[0].id;
  const dep = await h.waitDeployment(tenantId, depId, 180_000);
  expect([dep.status, dep.error ?? dep.reason ?? null]).toEqual(["succeeded", null]);
  expect(await status()).toBe("ready");
  // The service runs the build pushed to the cluster registry: the workers pulled it from there.
  const image = Bun.spawnSync(
    lab.docker(lab.manager, "service", "ls", "--filter", `label=staxa.tenant_id=${tenantId}`, "--format", "{{.Image}}"),
  );
  expect(image.stdout.toString().trim()).toStartWith(`${registry.address}/`);
  const placed = (await nodes()).filter((n) => n.tasks.length > 0);
  expect(placed.length).toBeGreaterThanOrEqual(2);
  expect(placed.flatMap((n) => n.tasks).length).toBe(3);
  expect(await routed()).toHaveLength(3);
  const seen = new Set<string>();
  for (let i = 0; i < 30; i++) {
    const res = await fetch(`http://127.0.0.1:${HTTP}/`, { headers: { host } });
    expect(res.status).toBe(200);
    seen.add((await res.text()).trim());
  }
  expect(seen.size).toBe(3);
}, 180_000);

test("a redeploy under 20 clients that never resend: 0 failed requests, the route moves to the new tasks", async () => {
  const before = new Set(await routed());
  const clients = load();
  await Bun.sleep(1000);
  const t0 = Date.now();
  const r = await h.call("POST", `/api/v1/tenants/${tenantId}/deploy`);
  expect(r.status).toBe(202);
  const dep = await h.waitDeployment(tenantId, r.json.meta.deployment_ids[0], 180_000);
  await Bun.sleep(1000); // traffic on the new tasks only
  const { ok, failures } = await clients.stop();
  console.log(`swarm cluster e2e: redeploy ${Date.now() - t0} ms, ${ok} requests`);
  expect(dep.status).toBe("succeeded");
  expect(failures).toEqual([]);
  expect(ok).toBeGreaterThan(200);
  const after = await routed();
  expect(after).toHaveLength(3);
  // Host ports are picked per task: the new service's tasks answer elsewhere than the old ones did.
  expect(after.filter((u) => before.has(u))).toEqual([]);
  expect(await status()).toBe("ready");
}, 180_000);

test("a worker's engine stops: 0 failed requests, its tasks leave the route within seconds, 3 replicas run again on the others; degraded, then ready", async () => {
  const dead = lab.nodes[1]!;
  expect(nodeOf(await nodes(), dead).tasks.length).toBeGreaterThan(0);
  const statuses: string[] = [];
  let watching = true;
  const watch = (async () => {
    while (watching) {
      const s = await status();
      if (statuses.at(-1) !== s) statuses.push(s);
      await Bun.sleep(100);
    }
  })();
  const clients = load();
  await Bun.sleep(1000);
  const t0 = Date.now();
  let stoppedMs = -1;
  const stopping = stopNodeEngine(lab, dead).then(() => (stoppedMs = Date.now() - t0)); // SIGTERM now, exits in seconds
  const onDead = (ups: string[]) => ups.some((u) => u.startsWith(`${dead.ip}:`));
  const leftMs = await until(30_000, async () => !onDead(await routed()));
  const backMs = await until(45_000, async () => {
    const ups = await routed();
    return ups.length === 3 && !onDead(ups) && (await status()) === "ready";
  });
  await stopping;
  await Bun.sleep(1000);
  const { ok, failures } = await clients.stop();
  watching = false;
  await watch;
  console.log(
    `swarm cluster e2e: engine exited ${stoppedMs} ms after SIGTERM; its tasks left the route after ${leftMs} ms, 3 replicas routed and ready ${backMs} ms later; statuses ${statuses.join(" → ")}; ${ok} requests`,
  );
  expect(failures).toEqual([]);
  expect(ok).toBeGreaterThan(200);
  expect(leftMs).toBeGreaterThanOrEqual(0);
  // dockerd's own shutdown (its containers, its swarm agent: 4-6 s here), then ~3 heartbeats (1 s here) of silence.
  expect(leftMs).toBeLessThan(15_000);
  expect(backMs).toBeGreaterThanOrEqual(0);
  const rows = await nodes();
  expect(nodeOf(rows, dead).state).toBe("down");
  expect(rows.filter((n) => n.hostname !== dead.name).flatMap((n) => n.tasks)).toHaveLength(3);
  expect(statuses).toEqual(["ready", "degraded", "ready"]);
}, 180_000);

test("the other worker drained: it ends with no task, the 3 replicas run on the manager, 0 failed requests", async () => {
  const drained = lab.nodes[2]!;
  const id = nodeOf(await nodes(), drained).id;
  const clients = load();
  await Bun.sleep(1000);
  const d = await h.call("POST", `/api/v1/nodes/${id}/drain`);
  expect([d.status, d.json.data.availability]).toEqual([200, "drain"]);
  const onManager = (ups: string[]) => ups.length === 3 && ups.every((u) => u.startsWith(`${lab.manager.ip}:`));
  const movedMs = await until(45_000, async () => nodeOf(await nodes(), drained).tasks.length === 0 && onManager(await routed()));
  await Bun.sleep(1000);
  const { ok, failures } = await clients.stop();
  console.log(`swarm cluster e2e: drained worker emptied and routed around in ${movedMs} ms, ${ok} requests`);
  expect(movedMs).toBeGreaterThanOrEqual(0);
  expect(nodeOf(await nodes(), drained).tasks).toEqual([]);
  expect(onManager(await routed())).toBe(true);
  expect(failures).toEqual([]);
  expect(ok).toBeGreaterThan(100);
  expect(await status()).toBe("ready");
}, 180_000);

test("the appliance restarted: start-up reconciliation finds the cluster as it left it, and restores a service removed behind its back", async () => {
  // A second context on the same store and engine is the appliance after a restart (the process holds nothing
  // else). The first one's follower is paused so that only the start-up pass acts.
  stopFollower();
  try {
    const restarted = createContext(h.config);
    await restarted.proxy.init();
    const before = (await routed()).sort();
    const first = await reconcile(restarted);
    expect([first.restored, first.orphansRemoved, first.kept]).toEqual([[], [], 1]);
    expect((await routed()).sort()).toEqual(before);
    // Someone removes the tenant's Swarm service by hand: the next start-up restores it (the same image, no build).
    const ids = (await dockerOn(lab.manager, "service", "ls", "-q", "--filter", `label=staxa.tenant=${name}`)).split("\n");
    expect(ids.filter(Boolean)).toHaveLength(1);
    await dockerOn(lab.manager, "service", "rm", ids[0]!);
    const second = await reconcile(restarted);
    expect(second.restored).toHaveLength(1);
    const backMs = await until(90_000, async () => (await routed()).length === 3 && (await status()) === "ready");
    console.log(`swarm cluster e2e: restart reconciliation restored the removed service, routed again in ${backMs} ms`);
    expect(backMs).toBeGreaterThanOrEqual(0);
    expect((await viaCaddy(HTTP, host)).status).toBe(200);
  } finally {
    stopFollower = startRouteFollower(h.ctx);
  }
}, 180_000);

test("a worker cut off (power or network lost, nothing refused): requests it held are lost, none sent 5 s after the cut fails; its tasks leave the route", async () => {
  const lost = lab.nodes[2]!;
  const a = await h.call("POST", `/api/v1/nodes/${nodeOf(await nodes(), lost).id}/activate`);
  expect(a.json.data.availability).toBe("active");
  // A redeploy spreads the replicas over the manager and this worker again (the drain left all on the manager).
  const r = await h.call("POST", `/api/v1/tenants/${tenantId}/deploy`);
  expect((await h.waitDeployment(tenantId, r.json.meta.deployment_ids[0], 180_000)).status).toBe("succeeded");
  const onLost = (ups: string[]) => ups.some((u) => u.startsWith(`${lost.ip}:`));
  expect(onLost(await routed())).toBe(true);
  const clients = timedLoad();
  await Bun.sleep(1000);
  const t0 = Date.now();
  await cutNodeLink(lab, lost);
  const leftMs = await until(30_000, async () => !onLost(await routed()));
  const onManager = (ups: string[]) => ups.length === 3 && ups.every((u) => u.startsWith(`${lab.manager.ip}:`));
  const backMs = await until(45_000, async () => onManager(await routed()) && (await status()) === "ready");
  await Bun.sleep(1000);
  const { ok, failures } = await clients.stop();
  const late = failures.filter((f) => f.sentAt >= t0 + Math.max(5000, leftMs));
  console.log(
    `swarm cluster e2e: cut-off worker left the route after ${leftMs} ms, 3 replicas on the manager ${backMs} ms later; ${ok} requests, ${failures.length} lost (sent ${failures.map((f) => f.sentAt - t0).join(", ")} ms after the cut)`,
  );
  // Nothing answers for a vanished node: requests it held, or written on an idle keep-alive connection to it before
  // Caddy saw it fail, are lost (a client resending would be served). A new dial to it times out in 2 s and Caddy
  // tries another upstream; once its tasks left the route no request goes near it. So nothing sent 5 s after the
  // cut fails (or after they left the route, should Swarm take longer to mark the node down).
  expect(late).toEqual([]);
  expect(failures.length).toBeLessThanOrEqual(2 * CLIENTS);
  expect(leftMs).toBeGreaterThanOrEqual(0);
  expect(leftMs).toBeLessThan(10_000); // 3 missed heartbeats of 1 s, and the follower's re-plan
  expect(backMs).toBeGreaterThanOrEqual(0);
  expect(ok).toBeGreaterThan(100);
}, 180_000);
