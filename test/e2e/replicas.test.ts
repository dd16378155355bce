// Replicas on one host, through the real Docker engine, resolver and Caddy: a service with 3 replicas is served
// round-robin by 3 containers (each answers with its hostname), a redeploy under 20 clients that never resend fails
// no request, a start-up pass and the periodic tick repair the replicas, and scaling 3 → 1 (PATCH, no rebuild)
// fails no request either.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { dockerCli, ensureTestImages, teardownE2e, uniqueName } from "../support/docker.ts";
import { commitVersion, e2eApp, fixtureRepo, traffic, viaCaddy } from "../support/e2e-app.ts";
import { reconcile, reconcileTick } from "../../src/core/deploy/reconcile.ts";

const PREFIX = uniqueName("e2r");
const BASE = "e2e-replicas.test";
const ADMIN = 24900 + Math.floor(Math.random() * 300) * 3;
const HTTP = ADMIN + 1;
const NAME = `${PREFIX}-app`;
const HOST = `${NAME}.${BASE}`;
// Each container writes "<version> <its hostname>" into the page it serves (its hostname is its short container id).
const CMD = [
  "sh",
  "-c",
  'mkdir -p /tmp/www && echo "$(cat /www/index.html) $(hostname)" > /tmp/www/index.html && exec httpd -f -p 3000 -h /tmp/www',
];
const BODY = /^(v[12]) ([0-9a-f]{12})\n$/;
let caddy: TestCaddy;
let h: Awaited<ReturnType<typeof e2eApp>>;
let repo = "";
let tenantId = "";

beforeAll(async () => {
  await ensureTestImages();
  caddy = await startCaddy({ adminPort: ADMIN });
  h = await e2eApp({
    STAXA_BASE_DOMAIN: BASE,
    STAXA_PUBLIC_SCHEME: "http",
    STAXA_HTTP_PORT: String(HTTP),
    STAXA_HTTPS_PORT: String(ADMIN + 2),
    STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
    STAXA_ALLOW_FILE_REPOS: "1",
    STAXA_ALLOW_PRIVATE_TARGETS: "1",
    STAXA_DRAIN_SEC: "1",
    STAXA_HEALTH_TIMEOUT_SEC: "30",
  });
  repo = await fixtureRepo("v1", { cmd: CMD });
}, 120_000);

afterAll(async () => {
  await h?.resolver.kill();
  await teardownE2e(PREFIX, caddy, [repo, h?.dataDir].filter(Boolean) as string[]);
}, 60_000);

/** The tenant's running containers: name and short id, by name. */
async function containers(): Promise<Array<{ name: string; short: string }>> {
  const out = (await dockerCli(["ps", "--filter", `label=staxa.tenant=${NAME}`, "--format", "{{.Names}} {{.ID}}"])).out;
  return out
    .split("\n")
    .filter(Boolean)
    .map((l) => ({ name: l.split(" ")[0]!, short: l.split(" ")[1]!.slice(0, 12) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** `n` requests one after another: how many each container answered. */
async function spread(n: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const r = await viaCaddy(HTTP, HOST);
    expect(r.status).toBe(200);
    const id = BODY.exec(r.body)?.[2] ?? `unexpected: ${r.body}`;
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  return seen;
}

const clients = (n: number) => Array.from({ length: n }, () => ({ host: HOST, want: (b: string) => BODY.test(b) }));

test("3 replicas: three containers (replica 1 keeps the single-container name), served round-robin", async () => {
  const created = await h.call("POST", "/api/v1/tenants", {
    name: NAME,
    source_type: "github",
    repo_url: `file://${repo}`,
    app_port: 3000,
    replicas: 3,
  });
  expect(created.status).toBe(202);
  tenantId = created.json.data.id;
  expect((await h.waitDeployment(tenantId, created.json.data.deployments[0].id)).status).toBe("succeeded");

  const cs = await containers();
  expect(cs.map((c) => c.name)).toEqual([cs[0]!.name, `${cs[0]!.name}-r2`, `${cs[0]!.name}-r3`]);
  const seen = await spread(30);
  console.log("replicas: 30 requests answered by", Object.fromEntries(seen));
  expect([...seen.keys()].sort()).toEqual(cs.map((c) => c.short).sort());
  for (const n of seen.values()) expect(n).toBeGreaterThanOrEqual(5); // round robin, not one favourite
  const svc = (await h.call("GET", `/api/v1/tenants/${tenantId}/services`)).json.data[0];
  expect([svc.replicas, svc.replicas_running]).toEqual([3, 3]);
}, 300_000);

test("a redeploy of 3 replicas under 20 clients that do not resend: 0 failed requests, 3 new containers", async () => {
  const before = (await containers()).map((c) => c.short);
  await commitVersion(repo, "v2", { cmd: CMD });
  const load = traffic(HTTP, clients(20));
  let done;
  try {
    const dep = await h.call("POST", `/api/v1/tenants/${tenantId}/deployments`, {});
    expect([201, 202]).toContain(dep.status);
    done = await h.waitDeployment(tenantId, dep.json.data.id, 300_000);
    await Bun.sleep(1000); // keep the load on the new replicas for a moment
  } finally {
    const { ok, failures } = await load.stop();
    console.log(`replicas: ${ok} requests answered during the rolling redeploy, ${failures.length} failed`);
    expect(failures.slice(0, 10)).toEqual([]);
    expect(ok).toBeGreaterThan(500);
  }
  expect(done?.status).toBe("succeeded");
  // The old replica 1 is drained and stopped just after the deployment reports success.
  const deadline = Date.now() + 30_000;
  while ((await containers()).length > 3 && Date.now() < deadline) await Bun.sleep(200);
  const after = await containers();
  expect(after.length).toBe(3);
  expect(after.some((c) => before.includes(c.short))).toBe(false);
  const seen = await spread(15);
  expect([...seen.keys()].sort()).toEqual(after.map((c) => c.short).sort());
  expect((await viaCaddy(HTTP, HOST)).body.startsWith("v2 ")).toBe(true);
}, 400_000);

test("restart and repair: a start-up pass over an empty routing table routes all 3; a replica removed behind the appliance's back is restored", async () => {
  const cs = await containers();
  await h.ctx.proxy.syncRoutes([]); // what an appliance that lost its table finds
  await reconcile(h.ctx);
  expect([...(await spread(9)).keys()].sort()).toEqual(cs.map((c) => c.short).sort());

  const gone = cs.find((c) => c.name.endsWith("-r2"))!;
  await dockerCli(["rm", "-f", gone.name]);
  await reconcileTick(h.ctx);
  await h.ctx.deployer.queue.idle();
  const now = await containers();
  expect(now.length).toBe(3);
  expect(now.map((c) => c.name)).toContain(gone.name);
  expect(now.map((c) => c.short)).not.toContain(gone.short);
  expect([...(await spread(9)).keys()].sort()).toEqual(now.map((c) => c.short).sort());
}, 300_000);

test("scale 3 → 1 (PATCH, no rebuild) under 20 clients: 0 failed requests, one container left", async () => {
  const deployments = (await h.call("GET", `/api/v1/tenants/${tenantId}/deployments`)).json.data.length;
  const first = (await containers()).find((c) => !/-r\d+$/.test(c.name))!; // replica 1 stays
  const load = traffic(HTTP, clients(20));
  try {
    const res = await h.call("PATCH", `/api/v1/tenants/${tenantId}/services/web`, { replicas: 1 });
    expect(res.status).toBe(202);
    const deadline = Date.now() + 60_000;
    while ((await containers()).length > 1 && Date.now() < deadline) await Bun.sleep(200);
    await Bun.sleep(1000);
  } finally {
    const { ok, failures } = await load.stop();
    console.log(`replicas: ${ok} requests answered while scaling 3 → 1, ${failures.length} failed`);
    expect(failures.slice(0, 10)).toEqual([]);
    expect(ok).toBeGreaterThan(200);
  }
  expect(await containers()).toEqual([first]);
  expect([...(await spread(5)).keys()]).toEqual([first.short]);
  expect((await h.call("GET", `/api/v1/tenants/${tenantId}/deployments`)).json.data.length).toBe(deployments); // no rebuild
}, 300_000);
