// The COMPILED binary end to end: CLI, start-up without Docker/Caddy, Account, API Keys and Templates
// exactly as the reference shows them, and a graceful SIGTERM.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../support/ports.ts";

const RESOLVER_PORT = freePort(); // its own resolver: none left by an earlier test answers for it

const ROOT = join(import.meta.dir, "../..");
const dir = mkdtempSync(join(tmpdir(), "staxa-e2e-foundation-"));
const bin = join(dir, "staxa");
const dataDir = join(dir, "data");
let port = 0;
let deadPort = 0;
let proc: ReturnType<typeof Bun.spawn> | undefined;
let stderr = "";
let key = "";

// No Docker engine and no Caddy behind this appliance: a socket path nobody listens on, an admin port nobody serves.
const env = () => ({
  ...process.env,
  STAXA_DATA_DIR: dataDir,
  STAXA_PORT: String(port),
  STAXA_HOST: "127.0.0.1",
  STAXA_MANAGE_CADDY: "0",
  STAXA_LOG_LEVEL: "info",
  STAXA_DOCKER_SOCKET: join(dir, "no-docker.sock"),
  STAXA_RESOLVER_PORT: String(RESOLVER_PORT),
  STAXA_CADDY_ADMIN_URL: `http://127.0.0.1:${deadPort}`,
});

async function run(args: string[]) {
  const p = Bun.spawn([bin, ...args], { env: env(), stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, out, err };
}

async function api(method: string, path: string, body?: unknown, auth = key) {
  const headers: Record<string, string> = {};
  if (auth) headers.authorization = `Bearer ${auth}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  // Always build: it takes a second, and a stale dist/staxa would test old code.
  const build = Bun.spawnSync(["bun", "run", "build"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`bun run build failed: ${build.stderr.toString()}`);
  // Run a private copy: other suites may rebuild dist/staxa while this one runs.
  copyFileSync(join(ROOT, "dist/staxa"), bin);
  Bun.spawnSync(["chmod", "0755", bin]);
  port = freePort();
  deadPort = freePort();
}, 120_000);

afterAll(() => {
  if (proc && proc.exitCode === null) proc.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("CLI", () => {
  test("unknown command and bad flags exit non-zero with usage", async () => {
    const bogus = await run(["bogus"]);
    expect(bogus.code).not.toBe(0);
    expect(bogus.err).toContain("Usage:");
    const flag = await run(["admin", "create-key", "--email", "a@example.com", "--nope", "x"]);
    expect(flag.code).not.toBe(0);
    expect(flag.err).toContain("Usage:");
    const mode = await run(["admin", "create-key", "--email", "a@example.com", "--mode", "prod"]);
    expect(mode.code).not.toBe(0);
  });

  test("version", async () => {
    const v = await run(["version"]);
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^staxa \d+\.\d+\.\d+\n$/);
  });

  test("admin create-key prints ONLY the raw key", async () => {
    const r = await run(["admin", "create-key", "--email", "e2e@example.com", "--name", "Acme Inc"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^sk_live_[0-9A-Za-z]{36}\n$/);
    key = r.out.trim();
  });
});

describe("serve", () => {
  test("starts without Docker or Caddy and answers /healthz", async () => {
    proc = Bun.spawn([bin, "serve"], { env: env(), stdout: "pipe", stderr: "pipe" });
    (async () => {
      const reader = (proc!.stderr as ReadableStream<Uint8Array>).getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) stderr += new TextDecoder().decode(r.value);
    })();
    const deadline = Date.now() + 20_000;
    let ok = false;
    while (Date.now() < deadline && !ok) {
      ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (!ok) await Bun.sleep(100);
    }
    expect(ok).toBe(true);
    // No dashboard user yet: a one-time setup token is printed on stderr, and status says so.
    expect(stderr).toMatch(/stx_setup_[a-z0-9]{32}/);
    expect((await api("GET", "/api/v1/auth/status", undefined, "")).json.data).toEqual({ setup_required: true });
  }, 30_000);

  test("Account: GET and PATCH as in the reference", async () => {
    const r = await api("GET", "/api/v1/account");
    expect(r.status).toBe(200);
    expect(Object.keys(r.json.data)).toEqual(["id", "email", "name", "tenant_count", "created_at"]);
    expect(r.json.data).toMatchObject({ email: "e2e@example.com", name: "Acme Inc", tenant_count: 0 });
    expect(r.json.data.id).toMatch(/^prv_/);
    expect(r.json.meta.request_id).toBe(r.headers.get("x-request-id"));
    for (const h of ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"])
      expect(r.headers.get(h)).toMatch(/^\d+$/);
    const p = await api("PATCH", "/api/v1/account", { name: "Acme Corporation" });
    expect(p.status).toBe(200);
    expect(p.json.data.name).toBe("Acme Corporation");
    expect((await api("GET", "/api/v1/account", undefined, "")).status).toBe(401);
  });

  test("API Keys: list, create (raw key once), use, delete (204), then 401 and 404", async () => {
    const list = await api("GET", "/api/v1/api-keys");
    expect(list.status).toBe(200);
    expect(list.json.data).toHaveLength(1);
    expect(Object.keys(list.json.data[0]).sort()).toEqual(["created_at", "expires_at", "id", "mode", "name", "prefix", "scopes"]);
    expect(list.json.data[0]).toMatchObject({ prefix: key.slice(0, 12), mode: "live", scopes: ["*"], expires_at: null });
    expect(list.text).not.toContain(key);

    const created = await api("POST", "/api/v1/api-keys", { name: "Production", mode: "live" });
    expect(created.status).toBe(201);
    expect(created.json.data).toMatchObject({ name: "Production", mode: "live", scopes: ["*"], expires_at: null });
    const { id, key: raw } = created.json.data;
    expect(raw).toMatch(/^sk_live_/);
    expect((await api("GET", "/api/v1/api-keys")).text).not.toContain(raw);
    expect((await api("GET", "/api/v1/account", undefined, raw)).status).toBe(200);

    const missing = await api("POST", "/api/v1/api-keys", { mode: "live" });
    expect(missing.status).toBe(400);
    expect(missing.json.error.details.field).toBe("name");

    const del = await api("DELETE", `/api/v1/api-keys/${id}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe("");
    expect((await api("GET", "/api/v1/account", undefined, raw)).status).toBe(401);
    const again = await api("DELETE", `/api/v1/api-keys/${id}`);
    expect(again.status).toBe(404);
    expect(again.json.error.code).toBe("not_found");
  });

  test("Templates: list and get as in the reference; unknown → 404", async () => {
    const list = await api("GET", "/api/v1/templates");
    expect(list.status).toBe(200);
    expect(list.json.data[0]).toEqual({
      id: "tpl_nextjs",
      name: "Next.js Starter",
      framework: "nextjs",
      description: "Production-ready Next.js application",
      repo_url: "https://github.com/staxa/template-nextjs",
    });
    expect(list.json.data.length).toBeGreaterThanOrEqual(9);
    const one = await api("GET", "/api/v1/templates/tpl_nextjs");
    expect(one.status).toBe(200);
    expect(one.json.data).toEqual({ ...list.json.data[0], default_env: { NODE_ENV: "production" }, default_port: 3000 });
    expect((await api("GET", "/api/v1/templates/tpl_nope")).status).toBe(404);
  });

  test("errors are envelopes: unknown route 404, malformed JSON 400", async () => {
    const r = await api("GET", "/api/v1/nope");
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe("not_found");
    const bad = await fetch(`http://127.0.0.1:${port}/api/v1/api-keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: "{",
    });
    expect(bad.status).toBe(400);
  });

  test("with Docker and Caddy down since start-up, a deployment is not held back: it fails with a clear reason", async () => {
    const created = await api("POST", "/api/v1/tenants", {
      name: "no-engine",
      source_type: "image",
      image_url: "staxa-test/none:1",
    });
    expect(created.status).toBe(202);
    const id = created.json.data.id;
    const deadline = Date.now() + 15_000;
    let dep: any;
    while (Date.now() < deadline) {
      dep = (await api("GET", `/api/v1/tenants/${id}/deployments`)).json.data[0];
      if (dep.status === "failed" || dep.status === "succeeded") break;
      await Bun.sleep(200);
    }
    expect(dep.status).toBe("failed");
    expect(dep.reason).toMatch(/docker/i);
    expect((await api("DELETE", `/api/v1/tenants/${id}`)).status).toBe(202);
  }, 30_000);

  test("SIGTERM stops it gracefully with exit 0", async () => {
    proc!.kill("SIGTERM");
    const code = await Promise.race([proc!.exited, Bun.sleep(10_000).then(() => "timeout")]);
    expect(code).toBe(0);
    expect(stderr).not.toContain(key);
  }, 15_000);
});
