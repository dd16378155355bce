// Redeploys under load: 20 consecutive redeploys of one tenant while 32 keep-alive clients that never resend (GET and
// POST) request it through Caddy, and not one request fails. Old containers go at once (STAXA_DRAIN_SEC=0): only the
// route switch itself keeps requests away from them. Caddy's config stays byte for byte the same throughout.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { ensureTestImages, teardownE2e, uniqueName } from "../support/docker.ts";
import { e2eApp, traffic } from "../support/e2e-app.ts";
import { getPostRepo } from "../support/get-post-repo.ts";

const PREFIX = uniqueName("e2z");
const BASE = "e2e-zero.test";
const ADMIN = 24000 + Math.floor(Math.random() * 300) * 3;
const HTTP = ADMIN + 1;
let caddy: TestCaddy;
let h: Awaited<ReturnType<typeof e2eApp>>;
let repo = "";

const configHash = async () =>
  new Bun.CryptoHasher("sha256").update(await (await fetch(`${caddy.adminUrl}/config/`)).text()).digest("hex");

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
    STAXA_DRAIN_SEC: "0",
    STAXA_HEALTH_TIMEOUT_SEC: "30",
  });
  repo = await getPostRepo("hello zd");
}, 120_000);

afterAll(async () => {
  await h?.resolver.kill();
  await teardownE2e(PREFIX, caddy, [repo, h?.dataDir].filter(Boolean) as string[]);
}, 60_000);

test("20 redeploys under 32 keep-alive clients that do not resend (16 GET, 16 POST): 0 failed requests", async () => {
  const name = `${PREFIX}-app`;
  const host = `${name}.${BASE}`;
  const created = await h.call("POST", "/api/v1/tenants", {
    name,
    source_type: "github",
    repo_url: `file://${repo}`,
    app_port: 3000,
  });
  expect(created.status).toBe(202);
  const tenantId = created.json.data.id;
  expect((await h.waitDeployment(tenantId, created.json.data.deployments[0].id)).status).toBe("succeeded");

  const before = await configHash();
  const upstreams = [(await h.ctx.proxy.listRoutes()).find((r) => r.hosts.includes(host))!.upstream];
  const load = traffic(HTTP, [
    ...Array.from({ length: 16 }, () => ({ host, want: (b: string) => b === "hello zd\n" })),
    ...Array.from({ length: 16 }, () => ({ host, want: (b: string) => /^posted hello zd \d+\n$/.test(b), post: "/" })),
  ]);
  try {
    for (let i = 0; i < 20; i++) {
      const dep = await h.call("POST", `/api/v1/tenants/${tenantId}/deployments`, {});
      expect([201, 202]).toContain(dep.status);
      const done = await h.waitDeployment(tenantId, dep.json.data.id);
      expect(`${i}: ${done.status} ${done.reason ?? ""}`).toBe(`${i}: succeeded `);
      upstreams.push((await h.ctx.proxy.listRoutes()).find((r) => r.hosts.includes(host))!.upstream);
    }
  } finally {
    const { ok, failures } = await load.stop();
    console.log(`zero-downtime: ${ok} requests answered during 20 redeploys, ${failures.length} failed`);
    expect(failures.slice(0, 10)).toEqual([]);
    expect(ok).toBeGreaterThan(1000);
  }
  // Every redeploy really moved the host to a new container, and none of it touched Caddy's config.
  for (let i = 1; i < upstreams.length; i++) expect(upstreams[i]).not.toBe(upstreams[i - 1]);
  expect(await configHash()).toBe(before);
}, 600_000);
