// Upgrades: the compiled appliance restarts under continuous load on a tenant's URL and the tenant loses no request.
// Caddy and the tenant's container run beside the appliance (as under systemd), so they keep serving while it is down.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { dockerCli, ensureTestImages, removeByPrefix, uniqueName } from "../support/docker.ts";
import { fixtureRepo, traffic, viaCaddy } from "../support/e2e-app.ts";
import { freePort } from "../support/ports.ts";
import { apiClient, applianceProcess } from "../support/appliance-process.ts";

const RESOLVER_PORT = freePort(); // its own resolver: none left by an earlier test answers for it

const REPO = resolve(import.meta.dir, "../..");
const BIN = join(REPO, "dist/staxa");
const PREFIX = uniqueName("e2r");
const BASE = "e2e-restart.test";
const ADMIN_PORT = 23000 + Math.floor(Math.random() * 400) * 3;
const HTTP_PORT = ADMIN_PORT + 1;
const API_PORT = ADMIN_PORT + 2;
const dataDir = mkdtempSync(join(tmpdir(), "staxa-e2e-restart-"));
const env = {
  ...process.env,
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
  STAXA_HEALTH_TIMEOUT_SEC: "15",
};
let caddy: TestCaddy;
let key = "";
let repo = "";

const appliance = applianceProcess({ argv: [BIN, "serve"], env, port: API_PORT, stderrFile: () => join(dataDir, "serve.log") });
const startAppliance = () => appliance.start();
const stopAppliance = () => appliance.stop();
const api = apiClient(API_PORT, () => key);

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error("dist/staxa is missing: run `bun run build` first (scripts/test.sh does)");
  await ensureTestImages();
  caddy = await startCaddy({ adminPort: ADMIN_PORT });
  repo = await fixtureRepo("hello restart");
  const made = Bun.spawnSync([BIN, "admin", "create-key", "--email", "restart@example.com"], { env });
  key = made.stdout.toString().trim();
  expect(key).toMatch(/^sk_live_/);
  await startAppliance();
}, 120_000);

afterAll(async () => {
  await stopAppliance();
  await removeByPrefix(`staxa-${PREFIX}`);
  const imgs = (await dockerCli(["images", "-q", "--filter", `reference=staxa/${PREFIX}*`])).out.split("\n").filter(Boolean);
  if (imgs.length) await dockerCli(["rmi", "-f", ...imgs]);
  await caddy?.stop();
  for (const d of [dataDir, repo]) if (d) rmSync(d, { recursive: true, force: true });
}, 60_000);

test("restarting the appliance under load: 0 failed requests to the tenant", async () => {
  const name = `${PREFIX}-app`;
  const host = `${name}.${BASE}`;
  const created = await api("POST", "/api/v1/tenants", {
    name,
    source_type: "github",
    repo_url: `file://${repo}`,
    app_port: 3000,
  });
  expect(created.status).toBe(202);
  const deadline = Date.now() + 120_000;
  let status = "";
  while (Date.now() < deadline && !["ready", "failed"].includes(status)) {
    status = (await api("GET", `/api/v1/tenants/${created.json.data.id}`)).json.data.status;
    await Bun.sleep(250);
  }
  if (status !== "ready")
    console.error("tenant:", JSON.stringify((await api("GET", `/api/v1/tenants/${created.json.data.id}`)).json.data));
  expect(status).toBe("ready");
  expect(await viaCaddy(HTTP_PORT, host)).toEqual({ status: 200, body: "hello restart" });

  const load = traffic(
    HTTP_PORT,
    Array.from({ length: 10 }, () => ({ host, want: (body: string) => body === "hello restart" })),
  );
  await Bun.sleep(1000);
  await stopAppliance();
  await Bun.sleep(1000); // the appliance is down: Caddy and the container keep serving
  await startAppliance(); // start-up reconciliation re-asserts the routes while traffic flows
  await Bun.sleep(3000);
  const { ok, failures } = await load.stop();
  expect(failures).toEqual([]);
  expect(ok).toBeGreaterThan(100);
  expect((await api("GET", `/api/v1/tenants/${created.json.data.id}`)).json.data.status).toBe("ready");
}, 240_000);
