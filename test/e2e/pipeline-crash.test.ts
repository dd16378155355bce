// kill -9 of the appliance mid-build, then a restart: the deployment is failed with a reason, the tenant
// consistent, a new deploy succeeds; a restart with a healthy tenant keeps it and redeploys nothing.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { dockerCli, ensureTestImages, removeByPrefix, uniqueName, teardownE2e } from "../support/docker.ts";
import { commitVersion, fixtureRepo, viaCaddy } from "../support/e2e-app.ts";
import { freePort } from "../support/ports.ts";

const RESOLVER_PORT = freePort(); // its own resolver: none left by an earlier test answers for it

const PREFIX = uniqueName("e2k");
const BASE = "e2e-crash.test";
const ADMIN_PORT = 22800 + Math.floor(Math.random() * 60) * 3;
const HTTP_PORT = ADMIN_PORT + 1;
const API_PORT = ADMIN_PORT + 2;
const MAIN = join(import.meta.dir, "../../src/main.ts");
let caddy: TestCaddy;
let dataDir = "";
let repo = "";
let key = "";

const env = () => ({
  ...process.env,
  STAXA_DATA_DIR: dataDir,
  STAXA_PORT: String(API_PORT),
  STAXA_HOST: "127.0.0.1",
  STAXA_BASE_DOMAIN: BASE,
  STAXA_PUBLIC_SCHEME: "http",
  STAXA_HTTP_PORT: String(HTTP_PORT),
  STAXA_HTTPS_PORT: String(HTTP_PORT + 100),
  STAXA_RESOLVER_PORT: String(RESOLVER_PORT),
  STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
  STAXA_MANAGE_CADDY: "0",
  STAXA_ALLOW_FILE_REPOS: "1",
  STAXA_ALLOW_PRIVATE_TARGETS: "1",
  STAXA_DRAIN_SEC: "0",
  STAXA_LOG_LEVEL: "error",
});

async function startServe() {
  const proc = Bun.spawn(["bun", "run", MAIN, "serve"], {
    env: env(),
    stdout: "ignore",
    stderr: Bun.file(join(dataDir, "serve.log")),
  });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${API_PORT}/healthz`)).ok) return proc;
    } catch {}
    await Bun.sleep(100);
  }
  proc.kill(9);
  throw new Error("serve did not start: " + (await Bun.file(join(dataDir, "serve.log")).text()).slice(-1000));
}

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${API_PORT}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json().catch(() => undefined)) as any };
}

async function until<T>(fn: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v !== undefined) return v;
    await Bun.sleep(1100); // within the reference's 60 requests a minute: a faster poll of a slow redeploy gets 429
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  await ensureTestImages();
  caddy = await startCaddy({ adminPort: ADMIN_PORT });
  dataDir = mkdtempSync(join(tmpdir(), "staxa-e2e-crash-"));
  repo = await fixtureRepo("slow build", { extraRun: "sleep 60" });
  const p = Bun.spawn(["bun", "run", MAIN, "admin", "create-key", "--email", "crash@example.com"], {
    env: env(),
    stdout: "pipe",
    stderr: "pipe",
  });
  key = (await new Response(p.stdout).text()).trim();
  expect(await p.exited).toBe(0);
}, 120_000);

afterAll(async () => {
  await teardownE2e(PREFIX, caddy, [dataDir, repo]);
}, 60_000);

test("kill -9 mid-build, restart: failed with reason, then a new deploy succeeds; a clean restart redeploys nothing", async () => {
  const name = `${PREFIX}-app`;
  let serve = await startServe();
  const r = await api("POST", "/tenants", { name, source_type: "github", repo_url: `file://${repo}`, app_port: 3000 });
  expect(r.status).toBe(202);
  const id = r.json.data.id;
  const depId = r.json.data.deployments[0].id;
  await until(
    async () => ((await api("GET", `/tenants/${id}/deployments/${depId}`)).json.data.status === "building" ? true : undefined),
    30_000,
    "building",
  );
  await Bun.sleep(1500); // inside `RUN sleep 60`
  serve.kill(9);
  await serve.exited;

  serve = await startServe();
  const dep = (await api("GET", `/tenants/${id}/deployments/${depId}`)).json.data;
  expect(dep.status).toBe("failed");
  expect(dep.reason).toBe("interrupted by appliance restart");
  const t = await until(
    async () => {
      const s = (await api("GET", `/tenants/${id}`)).json.data.status;
      return s === "failed" ? s : undefined;
    },
    15_000,
    "tenant failed",
  );
  expect(t).toBe("failed");

  await commitVersion(repo, "after the crash");
  const again = await api("POST", `/tenants/${id}/deployments`, {});
  expect(again.status).toBe(202);
  const done = await until(
    async () => {
      const d = (await api("GET", `/tenants/${id}/deployments/${again.json.data.id}`)).json.data;
      return d.status === "succeeded" || d.status === "failed" ? d : undefined;
    },
    90_000,
    "redeploy",
  );
  expect(done.status).toBe("succeeded");
  expect(await viaCaddy(HTTP_PORT, `${name}.${BASE}`)).toEqual({ status: 200, body: "after the crash" });
  const before = (await dockerCli(["ps", "-q", "--no-trunc", "--filter", `label=staxa.tenant=${name}`])).out.trim();
  expect(before.split("\n")).toHaveLength(1);
  const count = (await api("GET", `/tenants/${id}/deployments`)).json.meta.total;

  // A restart with a healthy tenant: same container, same route, no new deployment.
  serve.kill(9);
  await serve.exited;
  serve = await startServe();
  await Bun.sleep(1500); // reconciliation runs right after start
  expect((await dockerCli(["ps", "-q", "--no-trunc", "--filter", `label=staxa.tenant=${name}`])).out.trim()).toBe(before);
  expect((await api("GET", `/tenants/${id}/deployments`)).json.meta.total).toBe(count);
  expect((await api("GET", `/tenants/${id}`)).json.data.status).toBe("ready");
  expect(await viaCaddy(HTTP_PORT, `${name}.${BASE}`)).toEqual({ status: 200, body: "after the crash" });
  serve.kill("SIGTERM");
  await serve.exited;
}, 240_000);
