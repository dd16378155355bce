// Issue 21's cluster e2e: a lab swarm of a manager and two workers (each a dockerd in its own network namespace), the
// appliance on the manager's socket with the route follower running (routes follow Swarm's events; no reconciliation
// tick runs in this file), a tenant with 3 replicas spread over the nodes and served through Caddy, then under 20
// clients that never resend: a redeploy, one worker's engine stopped (its tasks come back on the other nodes, the
// tenant is degraded meanwhile, ready after) and the other worker drained (it ends with no task). Not one request fails.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { BUSYBOX_IMAGE, ensureTestImages } from "../support/docker.ts";
import { e2eApp, traffic } from "../support/e2e-app.ts";
import { startSwarmLab, stopNodeEngine, stopSwarmLab, type LabNode, type SwarmLab } from "../support/swarm-lab.ts";
import { startRouteFollower } from "../../src/core/deploy/route-follow.ts";
import type { ClusterNode } from "../../src/runtime/cluster.ts";

const LAB = "tri";
const BASE = "e2e-swarm-cluster.test";
const ADMIN = 26000 + Math.floor(Math.random() * 300) * 3;
const HTTP = ADMIN + 1;
const CLIENTS = 20;
let lab: SwarmLab;
let caddy: TestCaddy;
let h: Awaited<ReturnType<typeof e2eApp>>;
let stopFollower = () => {};
const started = Date.now();

beforeAll(async () => {
  await ensureTestImages();
  // Heartbeat 1 s: Swarm marks a silent node down after ~3 s instead of ~15 s (docs/swarm.md: the production setting).
  lab = await startSwarmLab({ id: LAB, subnet: 5, workers: 2, images: [BUSYBOX_IMAGE], heartbeatSec: 1 });
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
  });
  stopFollower = startRouteFollower(h.ctx);
}, 180_000);

afterAll(async () => {
  stopFollower();
  await h?.resolver.kill();
  await caddy?.stop();
  await stopSwarmLab(LAB);
  if (h) rmSync(h.dataDir, { recursive: true, force: true });
  console.log(`swarm cluster e2e: ${((Date.now() - started) / 1000).toFixed(1)} s including lab set-up and teardown`);
}, 120_000);

const name = "triweb";
const host = `${name}.${BASE}`;
/** busybox httpd serving the task's hostname (its container id): which task answered. */
const SERVE = "trap 'exit 0' TERM; mkdir -p /w && hostname > /w/index.html && httpd -f -p $PORT -h /w & wait";
let tenantId = "";

const nodes = async (): Promise<ClusterNode[]> => (await h.call("GET", "/api/v1/nodes")).json.data;
const nodeOf = (rows: ClusterNode[], n: LabNode) => rows.find((r) => r.hostname === n.name)!;
const status = async (): Promise<string> => (await h.call("GET", `/api/v1/tenants/${tenantId}`)).json.data.status;
async function routed(): Promise<string[]> {
  const route = (await h.ctx.proxy.listRoutes()).find((x) => x.id === `${name}.web`);
  return route ? (route.upstreams ?? [route.upstream]) : [];
}
const load = () =>
  traffic(
    HTTP,
    Array.from({ length: CLIENTS }, () => ({ host, want: (b: string) => b.trim().length > 0 })),
  );

/** Polls until `done` holds (or `ms` pass); returns how long it took, -1 when it never did. */
async function until(ms: number, done: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await done()) return Date.now() - t0;
    await Bun.sleep(200);
  }
  return -1;
}

test("the nodes API lists the manager and both workers, ready and active", async () => {
  const rows = await nodes();
  expect(rows.map((n) => [n.hostname, n.role, n.address, n.state, n.availability]).sort()).toEqual(
    lab.nodes.map((n) => [n.name, n.role, n.ip, "ready", "active"]).sort(),
  );
});

test("a tenant with 3 replicas runs them across the nodes and Caddy serves every one", async () => {
  const r = await h.call("POST", "/api/v1/tenants", {
    name,
    source_type: "image",
    image_url: BUSYBOX_IMAGE,
    app_port: 8080,
    command: ["sh", "-c", SERVE],
    replicas: 3,
  });
  expect(r.status).toBe(202);
  tenantId = r.json.data.id;
  const depId = (await h.call("GET", `/api/v1/tenants/${tenantId}/deployments`)).json.data[0].id;
  const dep = await h.waitDeployment(tenantId, depId, 120_000);
  expect([dep.status, dep.error ?? dep.reason ?? null]).toEqual(["succeeded", null]);
  expect(await status()).toBe("ready");
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
  const dep = await h.waitDeployment(tenantId, r.json.meta.deployment_ids[0], 120_000);
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
  expect(leftMs).toBeLessThan(10_000); // ~3 heartbeats (1 s here) after the engine went silent
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
