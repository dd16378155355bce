// The swarm engine for real: a lab swarm (a manager and a worker, each a dockerd in its own network namespace), the
// appliance with STAXA_ENGINE=swarm on the manager's socket, an image tenant with 2 replicas served through Caddy from
// tasks on both nodes, the nodes API, and a drain: the worker's task moves to the manager while 4 clients that never
// resend keep requesting, and not one request fails. Reconciliation runs as the scheduler's tick would (reconcileTick).
// Then, with no tick at all, the route follower (the manager's events) moves the route after a second drain.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { Value } from "@sinclair/typebox/value";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { BUSYBOX_IMAGE, ensureTestImages } from "../support/docker.ts";
import { e2eApp, traffic, viaCaddy } from "../support/e2e-app.ts";
import { startSwarmLab, stopSwarmLab, type SwarmLab } from "../support/swarm-lab.ts";
import { reconcileTick } from "../../src/core/deploy/reconcile.ts";
import { Node } from "../../src/api/node-models.ts";

const LAB = "e2e";
const BASE = "e2e-swarm.test";
const ADMIN = 25000 + Math.floor(Math.random() * 300) * 3;
const HTTP = ADMIN + 1;
let lab: SwarmLab;
let caddy: TestCaddy;
let h: Awaited<ReturnType<typeof e2eApp>>;
const started = Date.now();

beforeAll(async () => {
  await ensureTestImages();
  lab = await startSwarmLab({ id: LAB, subnet: 1, workers: 1, images: [BUSYBOX_IMAGE] });
  caddy = await startCaddy({ adminPort: ADMIN });
  h = await e2eApp({
    STAXA_ENGINE: "swarm",
    STAXA_DOCKER_SOCKET: lab.manager.socket,
    STAXA_BASE_DOMAIN: BASE,
    STAXA_PUBLIC_SCHEME: "http",
    STAXA_HTTP_PORT: String(HTTP),
    STAXA_HTTPS_PORT: String(ADMIN + 2),
    STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
    STAXA_DRAIN_SEC: "0",
    STAXA_HEALTH_TIMEOUT_SEC: "30",
  });
}, 180_000);

afterAll(async () => {
  await h?.resolver.kill();
  await caddy?.stop();
  await stopSwarmLab(LAB);
  if (h) rmSync(h.dataDir, { recursive: true, force: true });
  console.log(`swarm e2e: ${((Date.now() - started) / 1000).toFixed(1)} s including lab set-up and teardown`);
}, 120_000);

type NodeRow = typeof Node.static;
const nodes = async (): Promise<NodeRow[]> => (await h.call("GET", "/api/v1/nodes")).json.data;
const byRole = (rows: NodeRow[], role: string) => rows.find((n) => n.role === role)!;

/** busybox httpd serving the task's hostname (its container id): which task answered. */
const SERVE = "trap 'exit 0' TERM; mkdir -p /w && hostname > /w/index.html && httpd -f -p $PORT -h /w & wait";
const name = "swarmweb";
const host = `${name}.${BASE}`;
let tenantId = "";

test("the nodes API lists the manager and the worker, ready and active, in the documented model", async () => {
  const rows = await nodes();
  expect(rows.map((n) => [n.hostname, n.role, n.address, n.state, n.availability]).sort()).toEqual([
    [lab.nodes[0]!.name, "manager", lab.nodes[0]!.ip, "ready", "active"],
    [lab.nodes[1]!.name, "worker", lab.nodes[1]!.ip, "ready", "active"],
  ]);
  for (const n of rows) expect([...Value.Errors(Node, n)].map((e) => `${e.path} ${e.message}`)).toEqual([]);
  const join = (await h.call("POST", "/api/v1/nodes/join-token")).json.data;
  expect(join.argv.slice(0, 4)).toEqual(["docker", "swarm", "join", "--token"]);
  expect(join.argv[5]).toBe(`${lab.manager.ip}:2377`);
});

test("an image tenant with 2 replicas runs a task on each node and Caddy serves both", async () => {
  const t0 = Date.now();
  const r = await h.call("POST", "/api/v1/tenants", {
    name,
    source_type: "image",
    image_url: BUSYBOX_IMAGE,
    app_port: 8080,
    command: ["sh", "-c", SERVE],
    replicas: 2,
  });
  expect(r.status).toBe(202);
  tenantId = r.json.data.id;
  const dep = await h.waitDeployment(tenantId, r.json.data.deployment_id ?? (await firstDeployment()), 120_000);
  expect([dep.status, dep.error ?? dep.reason ?? null]).toEqual(["succeeded", null]);
  console.log(`swarm e2e: POST → succeeded in ${Date.now() - t0} ms`);
  expect((await h.call("GET", `/api/v1/tenants/${tenantId}`)).json.data.status).toBe("ready");
  const rows = await nodes();
  for (const role of ["manager", "worker"])
    expect(byRole(rows, role).tasks).toEqual([{ tenant: name, service: "web", state: "running" }]);
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const res = await viaCaddy(HTTP, host);
    expect(res.status).toBe(200);
    seen.add(res.body.trim());
  }
  expect(seen.size).toBe(2);
}, 180_000);

async function firstDeployment(): Promise<string> {
  return (await h.call("GET", `/api/v1/tenants/${tenantId}/deployments`)).json.data[0].id;
}

test("draining the worker moves its task to the manager, and clients that never resend see no failure", async () => {
  const worker = byRole(await nodes(), "worker");
  const load = traffic(
    HTTP,
    Array.from({ length: 4 }, () => ({ host, want: (b: string) => b.trim().length > 0 })),
  );
  await Bun.sleep(500);
  const d = await h.call("POST", `/api/v1/nodes/${worker.id}/drain`);
  expect([d.status, d.json.data.availability]).toEqual([200, "drain"]);
  // What the scheduler's tick does every STAXA_RECONCILE_EVERY_SEC: routes follow the tasks Swarm moved.
  const deadline = Date.now() + 60_000;
  let routed: string[] = [];
  while (Date.now() < deadline) {
    await reconcileTick(h.ctx);
    const route = (await h.ctx.proxy.listRoutes()).find((x) => x.id === `${name}.web`);
    routed = route ? (route.upstreams ?? [route.upstream]) : [];
    const rows = await nodes();
    if (
      byRole(rows, "worker").tasks.length === 0 &&
      routed.length === 2 &&
      routed.every((u) => u.startsWith(`${lab.manager.ip}:`))
    )
      break;
    await Bun.sleep(500);
  }
  await Bun.sleep(1000); // traffic on the new route only
  const { ok, failures } = await load.stop();
  expect(routed).toHaveLength(2);
  expect(routed.every((u) => u.startsWith(`${lab.manager.ip}:`))).toBe(true);
  expect(byRole(await nodes(), "worker").tasks).toEqual([]);
  expect(failures).toEqual([]);
  expect(ok).toBeGreaterThan(20);
  const a = await h.call("POST", `/api/v1/nodes/${worker.id}/activate`);
  expect(a.json.data.availability).toBe("active");
}, 120_000);

test("routes follow the manager's events without a tick: a drained worker's task leaves and its replacement joins, 0 failures", async () => {
  // A redeploy spreads the 2 replicas over both nodes again (the drain above left both on the manager).
  const r = await h.call("POST", `/api/v1/tenants/${tenantId}/deploy`);
  expect(r.status).toBe(202);
  const dep = await h.waitDeployment(tenantId, r.json.meta.deployment_ids[0], 120_000);
  expect(dep.status).toBe("succeeded");
  const worker = byRole(await nodes(), "worker");
  expect(worker.tasks).toHaveLength(1);
  const { startRouteFollower } = await import("../../src/core/deploy/route-follow.ts");
  const stopFollower = startRouteFollower(h.ctx);
  try {
    const load = traffic(
      HTTP,
      Array.from({ length: 4 }, () => ({ host, want: (b: string) => b.trim().length > 0 })),
    );
    await Bun.sleep(500);
    const t0 = Date.now();
    const d = await h.call("POST", `/api/v1/nodes/${worker.id}/drain`);
    expect([d.status, d.json.data.availability]).toEqual([200, "drain"]);
    // No reconcileTick here: only the follower, woken by the node's event, may change the route.
    let routed: string[] = [];
    let followedMs = -1;
    while (Date.now() - t0 < 45_000) {
      const route = (await h.ctx.proxy.listRoutes()).find((x) => x.id === `${name}.web`);
      routed = route ? (route.upstreams ?? [route.upstream]) : [];
      if (routed.length === 2 && routed.every((u) => u.startsWith(`${lab.manager.ip}:`))) {
        followedMs = Date.now() - t0;
        break;
      }
      await Bun.sleep(250);
    }
    await Bun.sleep(1000); // traffic on the new route only
    const { ok, failures } = await load.stop();
    console.log(`swarm e2e: the route followed the drained worker's task in ${followedMs} ms`);
    expect(routed).toHaveLength(2);
    expect(routed.every((u) => u.startsWith(`${lab.manager.ip}:`))).toBe(true);
    expect(followedMs).toBeGreaterThan(0);
    expect(followedMs).toBeLessThan(30_000); // no tick runs here: without the follower the route never changes
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(20);
  } finally {
    stopFollower();
    await h.call("POST", `/api/v1/nodes/${worker.id}/activate`);
  }
}, 180_000);
