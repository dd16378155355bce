// Apps not on port 3000 keep serving after ready: a static site (8080) and a Python app (8000), ports detected, not
// requested, deployed by the compiled appliance through real git, Docker and Caddy, answer 200 through Caddy after
// two reconciliation ticks and after an appliance restart, and their route's upstream is where the container listens.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { dockerCli, removeByPrefix, uniqueName } from "../support/docker.ts";
import { git } from "../support/e2e-app.ts";
import { ensureTemplateImages, TEMPLATE_BASE_IMAGES } from "../support/template-images.ts";
import { loadConfig } from "../../src/config.ts";
import { openDb } from "../../src/store/db.ts";
import { createCaddyProxy } from "../../src/proxy/caddy.ts";
import { freePort } from "../support/ports.ts";
import { apiClient, applianceProcess } from "../support/appliance-process.ts";

const RESOLVER_PORT = freePort(); // its own resolver: none left by an earlier test answers for it

const REPO = resolve(import.meta.dir, "../..");
const BIN = join(REPO, "dist/staxa");
const PREFIX = uniqueName("e2p");
const BASE = "e2e-ports.test";
const ADMIN_PORT = 24300 + Math.floor(Math.random() * 300) * 3;
const HTTP_PORT = ADMIN_PORT + 1;
const API_PORT = ADMIN_PORT + 2;
const TICK_SEC = 2;
const dataDir = mkdtempSync(join(tmpdir(), "staxa-e2e-ports-"));
const env: Record<string, string> = {
  ...(process.env as Record<string, string>),
  ...TEMPLATE_BASE_IMAGES,
  STAXA_DATA_DIR: dataDir,
  STAXA_PORT: String(API_PORT),
  STAXA_HOST: "127.0.0.1",
  STAXA_BASE_DOMAIN: BASE,
  STAXA_PUBLIC_SCHEME: "http",
  STAXA_HTTP_PORT: String(HTTP_PORT),
  STAXA_HTTPS_PORT: String(HTTP_PORT + 900),
  STAXA_RESOLVER_PORT: String(RESOLVER_PORT),
  STAXA_CADDY_ADMIN_URL: `http://127.0.0.1:${ADMIN_PORT}`,
  STAXA_MANAGE_CADDY: "0",
  STAXA_ALLOW_FILE_REPOS: "1",
  STAXA_ALLOW_PRIVATE_TARGETS: "1",
  STAXA_LOG_LEVEL: "error",
  STAXA_HEALTH_TIMEOUT_SEC: "30",
  STAXA_RECONCILE_EVERY_SEC: String(TICK_SEC),
};
const APPS = [
  { name: `${PREFIX}-static`, src: "templates/src/static", port: 8080, body: '<html lang="en">' },
  { name: `${PREFIX}-py`, src: "templates/src/fastapi", port: 8000, body: "Hello from the Staxa Python (FastAPI) template" },
];
let caddy: TestCaddy;
let key = "";
const repos: string[] = [];

const appliance = applianceProcess({
  argv: [BIN, "serve"],
  env,
  port: API_PORT,
  stderrFile: () => join(dataDir, `serve-${Date.now()}.log`),
});
const startAppliance = () => appliance.start();
const stopAppliance = () => appliance.stop();
const api = apiClient(API_PORT, () => key);

/** One GET through Caddy, as a client that does not resend. */
async function viaCaddyOnce(host: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${HTTP_PORT}/`, { headers: { host }, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.text() };
}

/** Every app answers 200 through Caddy, and its route's upstream port is the detected one, where the container answers. */
async function assertServing(when: string): Promise<void> {
  const cfg = loadConfig(env);
  const db = openDb(cfg.dbPath);
  const routes = await createCaddyProxy(cfg, db).listRoutes();
  db.close();
  for (const app of APPS) {
    const got = await viaCaddyOnce(`${app.name}.${BASE}`);
    expect(`${when} ${app.name}: ${got.status}`).toBe(`${when} ${app.name}: 200`);
    expect(got.body).toContain(app.body);
    const route = routes.find((r) => r.id === `${app.name}.web`);
    expect(route?.upstream).toMatch(new RegExp(`:${app.port}$`));
    const direct = await fetch(`http://${route!.upstream}/`, { signal: AbortSignal.timeout(5_000) });
    expect(direct.status).toBe(200);
  }
}

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error("dist/staxa is missing: run `bun run build` first (scripts/test.sh does)");
  await ensureTemplateImages();
  caddy = await startCaddy({ adminPort: ADMIN_PORT });
  for (const app of APPS) {
    const dir = mkdtempSync(join(tmpdir(), "staxa-e2e-ports-repo-"));
    cpSync(join(REPO, app.src), dir, { recursive: true });
    await git(dir, "init", "-q", "-b", "main");
    await git(dir, "add", "-A");
    await git(dir, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "app");
    repos.push(dir);
  }
  const made = Bun.spawnSync([BIN, "admin", "create-key", "--email", "ports@example.com"], { env });
  key = made.stdout.toString().trim();
  expect(key).toMatch(/^sk_live_/);
  await startAppliance();
}, 300_000);

afterAll(async () => {
  await stopAppliance();
  await removeByPrefix(`staxa-${PREFIX}`);
  const imgs = (await dockerCli(["images", "-q", "--filter", `reference=staxa/${PREFIX}*`])).out.split("\n").filter(Boolean);
  if (imgs.length) await dockerCli(["rmi", "-f", ...imgs]);
  await caddy?.stop();
  for (const d of [dataDir, ...repos]) rmSync(d, { recursive: true, force: true });
}, 60_000);

test("a static site (8080) and a Python app (8000) still answer 200 after two reconcile ticks and a restart", async () => {
  const ids = await Promise.all(
    APPS.map(async (app, i) => {
      const created = await api("POST", "/api/v1/tenants", {
        name: app.name,
        source_type: "github",
        repo_url: `file://${repos[i]}`,
      });
      expect(created.status).toBe(202);
      return created.json.data.id as string;
    }),
  );
  for (const id of ids) {
    const deadline = Date.now() + 240_000;
    let t: any = {};
    while (Date.now() < deadline && !["ready", "failed"].includes(t.status)) {
      t = (await api("GET", `/api/v1/tenants/${id}`)).json.data;
      await Bun.sleep(250);
    }
    expect(`${t.name} ${t.status} ${t.status_reason ?? ""}`).toBe(`${t.name} ready `);
  }
  await assertServing("at ready");
  await Bun.sleep((TICK_SEC * 2 + 1) * 1000);
  await assertServing("after two ticks");
  await stopAppliance();
  await startAppliance();
  await Bun.sleep(1000); // the start-up pass
  await assertServing("after a restart");
  await Bun.sleep((TICK_SEC * 2 + 1) * 1000);
  await assertServing("after a restart and two ticks");
  for (const id of ids) expect((await api("GET", `/api/v1/tenants/${id}`)).json.data.status).toBe("ready");
}, 600_000);
