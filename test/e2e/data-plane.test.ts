// The data plane outlives the control plane, and the reverse: `staxa serve` killed with -9 under load loses no
// request (Caddy and the resolver keep serving), a route a second appliance process switched meanwhile is served when
// the first comes back, and a Caddy that restarts empty is given its config back by the resolver alone.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { startResolver, type TestResolver } from "../support/resolver.ts";
import { ensureTestImages, teardownE2e, uniqueName } from "../support/docker.ts";
import { traffic, viaCaddy } from "../support/e2e-app.ts";
import { commitBody, getPostRepo } from "../support/get-post-repo.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");
const PREFIX = uniqueName("e2p");
const BASE = "e2e-dataplane.test";
const ADMIN = 25000 + Math.floor(Math.random() * 300) * 5;
const HTTP = ADMIN + 1,
  API = ADMIN + 2,
  API2 = ADMIN + 3,
  RESOLVER = ADMIN + 4;
const dataDir = mkdtempSync(join(tmpdir(), "staxa-e2e-dataplane-"));
const env = {
  ...process.env,
  STAXA_DATA_DIR: dataDir,
  STAXA_PORT: String(API),
  STAXA_HOST: "127.0.0.1",
  STAXA_BASE_DOMAIN: BASE,
  STAXA_PUBLIC_SCHEME: "http",
  STAXA_HTTP_PORT: String(HTTP),
  STAXA_HTTPS_PORT: String(ADMIN + 900),
  STAXA_CADDY_ADMIN_URL: `http://127.0.0.1:${ADMIN}`,
  STAXA_RESOLVER_PORT: String(RESOLVER),
  STAXA_MANAGE_CADDY: "0",
  STAXA_ALLOW_FILE_REPOS: "1",
  STAXA_ALLOW_PRIVATE_TARGETS: "1",
  STAXA_LOG_LEVEL: "error",
  STAXA_HEALTH_TIMEOUT_SEC: "60",
  STAXA_DRAIN_SEC: "0",
};
let caddy: TestCaddy;
let resolver: TestResolver;
const appliances: Array<ReturnType<typeof Bun.spawn>> = [];
let key = "";
const repos: Record<string, string> = {};
const tenants: Record<string, string> = {};
const host = (t: string) => `${PREFIX}-${t}.${BASE}`;

/** `staxa serve` as its own process on `port` (the same store, resolver and Caddy as every other). */
async function startAppliance(port: number): Promise<ReturnType<typeof Bun.spawn>> {
  const p = Bun.spawn([process.execPath, "run", MAIN, "serve"], {
    env: { ...env, STAXA_PORT: String(port) },
    stdout: "ignore",
    stderr: Bun.file(join(dataDir, `serve-${port}-${appliances.length}.log`)),
  });
  appliances.push(p);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (p.exitCode !== null) throw new Error(`staxa serve exited ${p.exitCode}`);
    if (
      await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return p;
    await Bun.sleep(100);
  }
  throw new Error("staxa serve did not answer /healthz within 60 s");
}

const api = async (port: number, method: string, path: string, body?: unknown) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, json: (await res.json()) as any };
};

async function waitDeployment(port: number, tenantId: string, depId: string): Promise<{ status: string; reason?: string }> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const d = (await api(port, "GET", `/api/v1/tenants/${tenantId}/deployments/${depId}`)).json.data;
    if (d.status === "succeeded" || d.status === "failed") return d;
    await Bun.sleep(200);
  }
  throw new Error(`deployment ${depId} did not finish`);
}

/** Polls `host` through Caddy until it answers `want`; the milliseconds that took, or -1 after `withinMs`. */
async function servedWithin(h: string, want: string, withinMs: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < withinMs) {
    const r = await viaCaddy(HTTP, h).catch(() => undefined);
    if (r?.status === 200 && r.body === want) return Date.now() - t0;
    await Bun.sleep(100);
  }
  return -1;
}

beforeAll(async () => {
  await ensureTestImages();
  caddy = await startCaddy({ adminPort: ADMIN });
  resolver = await startResolver(env);
  const made = Bun.spawnSync([process.execPath, "run", MAIN, "admin", "create-key", "--email", "dataplane@example.com"], { env });
  key = made.stdout.toString().trim();
  expect(key).toMatch(/^sk_live_/);
  await startAppliance(API);
  for (const t of ["a", "b"]) {
    repos[t] = await getPostRepo(`hello ${t}`);
    const created = await api(API, "POST", "/api/v1/tenants", {
      name: `${PREFIX}-${t}`,
      source_type: "github",
      repo_url: `file://${repos[t]}`,
      app_port: 3000,
    });
    expect(created.status).toBe(202);
    tenants[t] = created.json.data.id;
    expect((await waitDeployment(API, tenants[t]!, created.json.data.deployments[0].id)).status).toBe("succeeded");
  }
}, 600_000);

afterAll(async () => {
  for (const p of appliances) p.kill("SIGKILL");
  await resolver?.kill();
  await teardownE2e(PREFIX, caddy, [dataDir, ...Object.values(repos)]);
}, 120_000);

test("the appliance killed with -9 under 20 clients for 60 s: 0 failed requests; a route a second appliance switched meanwhile is served when it is back", async () => {
  const t0 = Date.now();
  const load = traffic(HTTP, [
    ...Array.from({ length: 5 }, () => ({ host: host("a"), want: (b: string) => b === "hello a\n" })),
    ...Array.from({ length: 5 }, () => ({ host: host("a"), want: (b: string) => /^posted hello a \d+\n$/.test(b), post: "/" })),
    ...Array.from({ length: 5 }, () => ({ host: host("b"), want: (b: string) => b === "hello b\n" || b === "hello b2\n" })),
    ...Array.from({ length: 5 }, () => ({ host: host("b"), want: (b: string) => /^posted hello b2? \d+\n$/.test(b), post: "/" })),
  ]);
  let result: { ok: number; failures: string[] } | undefined;
  try {
    await Bun.sleep(5000);
    appliances[0]!.kill("SIGKILL");
    await appliances[0]!.exited;

    // While it is down, a second appliance process on the same store redeploys tenant b with a new version, then dies too.
    const second = await startAppliance(API2);
    await commitBody(repos.b!, "hello b2");
    const dep = await api(API2, "POST", `/api/v1/tenants/${tenants.b}/deployments`, {});
    expect([201, 202]).toContain(dep.status);
    expect((await waitDeployment(API2, tenants.b!, dep.json.data.id)).status).toBe("succeeded");
    second.kill("SIGKILL");
    await second.exited;

    await startAppliance(API);
    const restarted = Date.now();
    expect(await servedWithin(host("b"), "hello b2\n", 10_000)).toBeGreaterThanOrEqual(0);
    expect(await servedWithin(host("a"), "hello a\n", 10_000)).toBeGreaterThanOrEqual(0);
    // The restarted appliance's start-up reconciliation keeps what the second one did.
    await Bun.sleep(Math.max(10_000 - (Date.now() - restarted), 60_000 - (Date.now() - t0), 0));
    expect((await viaCaddy(HTTP, host("b"))).body).toBe("hello b2\n");
  } finally {
    result = await load.stop();
    console.log(
      `data plane: ${result.ok} requests answered over ${Math.round((Date.now() - t0) / 1000)} s with the appliance killed twice, ${result.failures.length} failed`,
    );
  }
  expect(result.failures.slice(0, 10)).toEqual([]);
  expect(result.ok).toBeGreaterThan(1000);
}, 900_000);

test("Caddy killed and restarted with an empty config, the appliance down: every tenant serves again within 15 s", async () => {
  for (const p of appliances) p.kill("SIGKILL");
  await caddy.stop();
  caddy = await startCaddy({ adminPort: ADMIN });
  const back = await Promise.all([servedWithin(host("a"), "hello a\n", 15_000), servedWithin(host("b"), "hello b2\n", 15_000)]);
  console.log(`caddy restarted empty: tenants served again after ${back.join(" and ")} ms`);
  expect(back.every((ms) => ms >= 0)).toBe(true);
}, 60_000);
