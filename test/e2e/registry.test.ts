// Registry credentials end to end against Debian's real docker-registry (htpasswd auth, TLS from node-forge):
// verify succeeds and fails with a wrong password; a pushed image is listed with digest and size; a tenant
// deploys from that private image with the credential (real Docker + Caddy); without it the pull is refused.
import { captureStderr } from "../support/capture-stderr.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { BUSYBOX_IMAGE, dockerCli, ensureTestImages, removeByPrefix, uniqueName } from "../support/docker.ts";
import { e2eApp, viaCaddy } from "../support/e2e-app.ts";
import { startRegistry, type TestRegistry } from "../support/docker-registry.ts";
import { createKey } from "../../src/core/identity/keys.ts";

const PREFIX = uniqueName("e2rg");
const BASE = "e2e-registry.test";
const ADMIN_PORT = 24000 + Math.floor(Math.random() * 400) * 2;
const HTTP_PORT = ADMIN_PORT + 1;
const USER = "acme";
const PASSWORD = `pw; whoami; #${crypto.randomUUID()}`;
const REPO = `team/${PREFIX}`;
const work = mkdtempSync(join(tmpdir(), "staxa-e2e-registry-work-"));
const dockerConfig = join(work, "docker-config");
let reg: TestRegistry;
let caddy: TestCaddy;
let h: Awaited<ReturnType<typeof e2eApp>>;
let image = "";
let credId = "";
let pushedDigest = "";
const logs: string[] = [];
let stopCapture = () => {};
const previousCa = process.env.NODE_EXTRA_CA_CERTS;

/** docker with its own client config dir, so `docker login` never touches the machine's credentials. */
async function docker(args: string[], stdin?: string): Promise<string> {
  const p = Bun.spawn(["docker", "--config", dockerConfig, ...args], {
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`docker ${args[0]} failed: ${err.replaceAll(PASSWORD, "****")}`);
  return out;
}

beforeAll(async () => {
  await ensureTestImages();
  stopCapture = captureStderr(logs);
  reg = await startRegistry(USER, PASSWORD);
  process.env.NODE_EXTRA_CA_CERTS = reg.caFile; // the appliance (this process) trusts the registry's CA
  caddy = await startCaddy({ adminPort: ADMIN_PORT });
  h = await e2eApp({
    STAXA_BASE_DOMAIN: BASE,
    STAXA_PUBLIC_SCHEME: "http",
    STAXA_HTTP_PORT: String(HTTP_PORT),
    STAXA_HTTPS_PORT: String(HTTP_PORT + 800),
    STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
    STAXA_ALLOW_PRIVATE_TARGETS: "1",
    STAXA_DRAIN_SEC: "0",
    STAXA_HEALTH_TIMEOUT_SEC: "15",
    STAXA_LOG_LEVEL: "debug",
  });
  // A locally built image, pushed to the registry with `docker login --password-stdin`, then removed locally.
  const ctxDir = join(work, "img");
  await Bun.write(join(ctxDir, "index.html"), "from the private registry");
  writeFileSync(
    join(ctxDir, "Dockerfile"),
    `FROM ${BUSYBOX_IMAGE}\nCOPY index.html /www/index.html\nCMD ["busybox","httpd","-f","-p","3000","-h","/www"]\n`,
  );
  image = `${reg.host}/${REPO}:v1`;
  await docker(["build", "-q", "-t", image, ctxDir]);
  await docker(["login", reg.host, "-u", USER, "--password-stdin"], PASSWORD);
  pushedDigest = /digest: (sha256:[0-9a-f]{64})/.exec(await docker(["push", image]))?.[1] ?? "";
  await docker(["logout", reg.host]);
  await docker(["rmi", image]);
}, 180_000);

afterAll(async () => {
  stopCapture();
  if (previousCa === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
  else process.env.NODE_EXTRA_CA_CERTS = previousCa;
  await removeByPrefix(`staxa-${PREFIX}`);
  if (image) await dockerCli(["rmi", "-f", image]);
  await caddy?.stop();
  await reg?.stop();
  for (const d of [work, h?.dataDir]) if (d) rmSync(d, { recursive: true, force: true });
}, 60_000);

describe("private registry", () => {
  test("verify succeeds with the password, and fails (422) with a wrong one", async () => {
    const r = await h.call("POST", "/api/v1/registries", {
      name: "Test registry",
      registry_url: reg.url,
      username: USER,
      password: PASSWORD,
    });
    expect(r.status).toBe(201);
    credId = r.json.data.id;
    expect((await h.call("POST", `/api/v1/registries/${credId}/verify`)).json.data).toEqual({ status: "verified" });
    expect((await h.call("GET", `/api/v1/registries/${credId}`)).json.data.verified).toBe(true);
    const bad = (
      await h.call("POST", "/api/v1/registries", {
        name: "Wrong",
        registry_url: reg.url,
        username: USER,
        password: "wrong-password",
      })
    ).json.data.id;
    const v = await h.call("POST", `/api/v1/registries/${bad}/verify`);
    expect(v.status).toBe(422);
    expect(v.json.error.code).toBe("registry_auth_failed");
    expect((await h.call("DELETE", `/api/v1/registries/${bad}`)).status).toBe(204);
  }, 60_000);

  test("repos and tags list the pushed image with its digest and size", async () => {
    const repos = await h.call("GET", `/api/v1/registries/${credId}/repos?q=${PREFIX}`);
    expect(repos.json.data).toEqual([{ name: REPO, tag_count: 1 }]);
    const tags = await h.call("GET", `/api/v1/registries/${credId}/repos/${REPO}/tags`);
    expect(tags.status).toBe(200);
    expect(tags.json.data).toHaveLength(1);
    const [tag] = tags.json.data;
    expect(tag.name).toBe("v1");
    expect(tag.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(tag.size).toBeGreaterThan(100_000); // busybox layer + the page
    // The digest is the one `docker push` reported.
    expect(tag.digest).toBe(pushedDigest);
  }, 60_000);

  test("without a credential (test mode has none) the pull is refused", async () => {
    const testKey = createKey(h.ctx.db, {
      providerId: (h.ctx.db.query("SELECT id FROM providers LIMIT 1").get() as { id: string }).id,
      name: "t",
      mode: "test",
      scopes: ["*"],
      expiresAt: null,
    }).raw;
    const res = await h.app.handle(
      new Request("http://localhost/api/v1/tenants", {
        method: "POST",
        headers: { authorization: `Bearer ${testKey}`, "content-type": "application/json" },
        body: JSON.stringify({ name: `${PREFIX}-anon`, source_type: "image", image_url: image, app_port: 3000 }),
      }),
    );
    const t = (await res.json()).data;
    expect(res.status).toBe(202);
    for (let i = 0; i < 300; i++) {
      const row = h.ctx.db.query("SELECT status FROM tenants WHERE id = ?").get(t.id) as { status: string };
      if (row.status === "failed") break;
      await Bun.sleep(100);
    }
    expect((h.ctx.db.query("SELECT status FROM tenants WHERE id = ?").get(t.id) as { status: string }).status).toBe("failed");
    const reason = (h.ctx.db.query("SELECT reason FROM deployments WHERE tenant_id = ?").get(t.id) as { reason: string }).reason;
    // Docker's answer varies (401, or a reset after its insecure-registry http fallback for 127.0.0.0/8): a refused pull either way.
    expect(reason).toMatch(/pull/i);
  }, 60_000);

  test("an image tenant pulls the private image with the credential and reaches ready behind Caddy", async () => {
    const name = `${PREFIX}-img`;
    const r = await h.call("POST", "/api/v1/tenants", { name, source_type: "image", image_url: image, app_port: 3000 });
    expect(r.status).toBe(202);
    const id = r.json.data.id;
    const dep = (await h.call("GET", `/api/v1/tenants/${id}/deployments`)).json.data[0];
    const done = await h.waitDeployment(id, dep.id);
    expect(done.status).toBe("succeeded");
    expect(await viaCaddy(HTTP_PORT, `${name}.${BASE}`)).toEqual({ status: 200, body: "from the private registry" });
  }, 120_000);

  test("the password is in no log, event, build log or file of the data dir", async () => {
    const hits: string[] = [];
    const check = (where: string, data: Buffer | string) => {
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (buf.includes(PASSWORD) || buf.includes(Buffer.from(`${USER}:${PASSWORD}`).toString("base64"))) hits.push(where);
    };
    h.ctx.db.exec("PRAGMA wal_checkpoint(FULL)");
    const walk = (d: string): void => {
      for (const e of readdirSync(d)) {
        const p = join(d, e);
        if (statSync(p).isDirectory()) walk(p);
        else check(p, readFileSync(p));
      }
    };
    walk(h.dataDir);
    check("logs", logs.join(""));
    check(
      "events+deployments",
      JSON.stringify(h.ctx.db.query("SELECT * FROM events").all()) +
        JSON.stringify(h.ctx.db.query("SELECT * FROM deployments").all()),
    );
    expect(hits).toEqual([]);
    check("control", `x${PASSWORD}x`);
    expect(hits).toEqual(["control"]);
  }, 60_000);
});
