// 300 tenants on one host with Docker's stock daemon settings (issue 18): its default address pools hold about 30
// networks, so every tenant network here must come from the appliance's own pool. Created through the API, 25 in
// flight at a time, each served through Caddy on its own subnet, then deleted the same way, leaving no network behind.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { BUSYBOX_IMAGE, dockerCli, ensureTestImages, removeByPrefix, uniqueName } from "../support/docker.ts";
import { e2eApp } from "../support/e2e-app.ts";
import { recoverSubnets } from "../../src/core/network/subnets.ts";
import { overlaps, parseCidr } from "../../src/lib/cidr.ts";

const COUNT = 300;
const WIDTH = 25; // in flight at once: dockerd serialises network set-up, more only queues behind it
const PREFIX = uniqueName("e2sc");
const BASE = "e2e-scale.test";
const ADMIN_PORT = 25000 + Math.floor(Math.random() * 400) * 2;
const HTTP_PORT = ADMIN_PORT + 1;
const POOL = "10.224.0.0/12";
let caddy: TestCaddy;
let h: Awaited<ReturnType<typeof e2eApp>>;

const names = Array.from({ length: COUNT }, (_, i) => `${PREFIX}-${i}`);
const ids = new Map<string, string>();
// PID 1 ignores SIGTERM unless it traps it: without the trap every delete would wait out Docker's stop timeout.
const serve = (name: string) => [
  "sh",
  "-c",
  `trap 'exit 0' TERM; mkdir -p /w && echo ${name} > /w/index.html && httpd -f -p 3000 -h /w & wait`,
];

/**
 * Runs `fn` over `items` with `width` in flight: the next starts as soon as one ends. (In batches, dockerd's network
 * queue ran dry at each batch's tail, while its last tenants started their containers: ~4 s idle per batch.)
 */
async function inFlight<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

async function status(id: string): Promise<{ code: number; status?: string; reason?: string }> {
  const r = await h.call("GET", `/api/v1/tenants/${id}`);
  return { code: r.status, status: r.json?.data?.status, reason: r.json?.data?.status_reason };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(250);
  }
}

/** One request through Caddy on a fresh connection; a failure is the test's failure (no resend). */
async function viaCaddy(host: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${HTTP_PORT}/`, {
    headers: { host, connection: "close" },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: (await res.text()).trim() };
}

/** Mean stage times of the deployments (where the time goes: provision is dockerd's serialised network create). */
function stageMeans(): Record<string, number> {
  const rows = h.ctx.db.query("SELECT timings FROM deployments WHERE status = 'succeeded'").all() as Array<{ timings: string }>;
  const sum: Record<string, number> = {};
  for (const r of rows)
    for (const [k, v] of Object.entries(JSON.parse(r.timings) as Record<string, number>)) sum[k] = (sum[k] ?? 0) + v;
  return Object.fromEntries(Object.entries(sum).map(([k, v]) => [`mean_${k}`, Math.round(v / rows.length)]));
}

const ourNetworks = async () =>
  (await dockerCli(["network", "ls", "--format", "{{.Name}}", "--filter", `name=^staxa-${PREFIX}-`])).out
    .split("\n")
    .filter(Boolean);

beforeAll(async () => {
  await ensureTestImages();
  caddy = await startCaddy({ adminPort: ADMIN_PORT });
  h = await e2eApp({
    STAXA_BASE_DOMAIN: BASE,
    STAXA_PUBLIC_SCHEME: "http",
    STAXA_HTTP_PORT: String(HTTP_PORT),
    STAXA_HTTPS_PORT: String(HTTP_PORT + 800),
    STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
    STAXA_DRAIN_SEC: "0",
    STAXA_HEALTH_TIMEOUT_SEC: "120",
    STAXA_TENANT_LIMIT: String(COUNT + 10),
    STAXA_TENANT_SUBNET_POOL: POOL,
  });
  await recoverSubnets(h.ctx); // what start-up does: other networks and host routes in the pool are skipped
}, 120_000);

afterAll(async () => {
  await removeByPrefix(`staxa-${PREFIX}`);
  await caddy?.stop();
  if (h) rmSync(h.dataDir, { recursive: true, force: true });
}, 300_000);

describe(`${COUNT} tenants on one host`, () => {
  test("Docker runs with its stock address pools (no default-address-pools configured)", () => {
    const conf = existsSync("/etc/docker/daemon.json") ? JSON.parse(readFileSync("/etc/docker/daemon.json", "utf8")) : {};
    expect(conf["default-address-pools"]).toBeUndefined();
    expect(conf.bip).toBeUndefined();
  });

  test(`${COUNT} created through the API, ${WIDTH} at a time, all become ready, each on its own subnet of the pool`, async () => {
    const t0 = Date.now();
    await inFlight(names, WIDTH, async (name) => {
      const r = await h.call("POST", "/api/v1/tenants", {
        name,
        source_type: "image",
        image_url: BUSYBOX_IMAGE,
        app_port: 3000,
        command: serve(name),
      });
      expect(r.status).toBe(202);
      ids.set(name, r.json.data.id);
      const s = await until(
        `${name} to settle`,
        async () => {
          const s = await status(r.json.data.id);
          return s.status === "ready" || s.status === "failed" ? s : undefined;
        },
        180_000,
      );
      expect(`${name}: ${s.status} ${s.reason ?? ""}`.trim()).toBe(`${name}: ready`);
    });
    console.log(`scale e2e: ${COUNT} tenants ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`, JSON.stringify(stageMeans()));
    const subnets = (
      await dockerCli(["network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", ...(await ourNetworks())])
    ).out
      .split("\n")
      .filter(Boolean);
    expect(subnets.length).toBe(COUNT);
    expect(new Set(subnets).size).toBe(COUNT);
    const pool = parseCidr(POOL)!;
    expect(subnets.filter((s) => !overlaps(parseCidr(s)!, pool) || parseCidr(s)!.prefix !== 27)).toEqual([]);
  }, 900_000); // ~0.4 s of dockerd per network create and ~0.6 s per remove, serialised: minutes for 300

  test("every tenant answers through Caddy with its own page", async () => {
    const wrong: string[] = [];
    await inFlight(names, 20, async (name) => {
      const r = await viaCaddy(`${name}.${BASE}`);
      if (r.status !== 200 || r.body !== name) wrong.push(`${name}: ${r.status} ${r.body.slice(0, 60)}`);
    });
    expect(wrong).toEqual([]);
  }, 120_000);

  test("all deleted: no network, container or subnet of theirs is left", async () => {
    const t0 = Date.now();
    await inFlight(names, WIDTH, async (name) => {
      expect((await h.call("DELETE", `/api/v1/tenants/${ids.get(name)}`)).status).toBe(202);
      await until(`${name} to be gone`, async () => ((await status(ids.get(name)!)).code === 404 ? true : undefined), 180_000);
    });
    console.log(`scale e2e: ${COUNT} tenants deleted in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    expect(await ourNetworks()).toEqual([]);
    expect(
      (await dockerCli(["ps", "-aq", "--filter", `label=staxa.tenant_id`, "--filter", `name=^/staxa-${PREFIX}-`])).out.trim(),
    ).toBe("");
    expect(h.ctx.db.query("SELECT COUNT(tenant_id) AS n FROM subnet_blocks").get()).toEqual({ n: 0 });
  }, 900_000); // ~0.4 s of dockerd per network create and ~0.6 s per remove, serialised: minutes for 300
});
