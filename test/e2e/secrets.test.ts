// Planted secrets (env values, a registry password, a webhook secret) through a real appliance (`staxa serve`
// from source, real Docker, Caddy and git): they reach the tenant's container env and nowhere else — not the
// data dir (SQLite db and WAL included), the appliance's logs, any API answer, the events, the build log,
// webhook deliveries or the built image.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { dockerCli, ensureTestImages, removeByPrefix, uniqueName } from "../support/docker.ts";
import { fixtureRepo, git, viaCaddy } from "../support/e2e-app.ts";
import { writeFileSync } from "node:fs";
import { freePort } from "../support/ports.ts";
import { applianceProcess } from "../support/appliance-process.ts";

const RESOLVER_PORT = freePort(); // its own resolver: none left by an earlier test answers for it

const REPO = resolve(import.meta.dir, "../..");
const PREFIX = uniqueName("e2s");
const BASE = "e2e-secrets.test";
const ADMIN_PORT = 24200 + Math.floor(Math.random() * 300) * 3;
const HTTP_PORT = ADMIN_PORT + 1;
const API_PORT = ADMIN_PORT + 2;
const dataDir = mkdtempSync(join(tmpdir(), "staxa-e2e-secrets-"));
const logDir = mkdtempSync(join(tmpdir(), "staxa-e2e-secrets-logs-"));
const rand = () => crypto.randomUUID().replaceAll("-", "");
const SECRETS = {
  API_TOKEN: `planted-secret-${rand()}`,
  DB_PASSWORD: `planted-pw-${rand()}`,
  REGISTRY_PASSWORD: `planted-regpw-${rand()}`,
};
const DATABASE_URL = `postgres://u:${SECRETS.DB_PASSWORD}@db/x`;
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
  STAXA_ALLOW_HTTP_REGISTRIES: "1",
  STAXA_ALLOW_HTTP_WEBHOOKS: "1",
  STAXA_LOG_LEVEL: "debug",
  STAXA_HEALTH_TIMEOUT_SEC: "20",
};

let caddy: TestCaddy;
let repo = "";
let crashRepo = "";
let key = "";
const headersText = (h: Headers) => {
  const out: string[] = [];
  h.forEach((v, k) => out.push(`${k}: ${v}`));
  return out.join("\n");
};
const responses: Array<{ where: string; body: string }> = [];
const received: string[] = [];
const receiver = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    received.push(`${headersText(req.headers)}\n${await req.text()}`);
    return new Response("ok");
  },
});

const appliance = applianceProcess({
  argv: [process.execPath, "run", join(REPO, "src/main.ts"), "serve"],
  env,
  port: API_PORT,
  cwd: REPO,
  stdoutFile: () => join(logDir, "stdout.log"),
  stderrFile: () => join(logDir, "stderr.log"),
});
const startAppliance = () => appliance.start();
const stopAppliance = () => appliance.stop();

/** Calls the API over its socket and keeps every answer body, to grep them all at the end. */
async function api(method: string, path: string, body?: unknown, keep = true) {
  const res = await fetch(`http://127.0.0.1:${API_PORT}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  if (keep) responses.push({ where: `${method} ${path} → ${res.status}`, body: text + headersText(res.headers) });
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

beforeAll(async () => {
  await ensureTestImages();
  caddy = await startCaddy({ adminPort: ADMIN_PORT });
  // The app prints its whole env at start: the secrets legitimately reach the container, then it serves.
  repo = await fixtureRepo("secrets app");
  // Declares the env names as build args: if the pipeline ever passed env to the build, the image would keep them.
  writeFileSync(
    join(repo, "Dockerfile"),
    [
      "FROM staxa-test/busybox:latest",
      "ARG API_TOKEN",
      "ARG DATABASE_URL",
      "COPY index.html /www/index.html",
      'RUN echo "build saw [$API_TOKEN] [$DATABASE_URL]" > /www/build-env.txt',
      `CMD ${JSON.stringify(["sh", "-c", "env; exec busybox httpd -f -p 3000 -h /www"])}`,
    ].join("\n") + "\n",
  );
  await git(repo, "commit", "-q", "-am", "build args");
  // An app that prints its env and its connection string, then crashes: the failure event carries its log tail.
  crashRepo = await fixtureRepo("crash app", { cmd: ["sh", "-c", 'env; echo "connect failed: $DATABASE_URL"; exit 1'] });
  const made = Bun.spawnSync(
    [process.execPath, "run", join(REPO, "src/main.ts"), "admin", "create-key", "--email", "secrets@example.com"],
    { env, cwd: REPO },
  );
  key = made.stdout.toString().trim();
  expect(key).toMatch(/^sk_live_/);
  await startAppliance();
}, 120_000);

afterAll(async () => {
  await stopAppliance();
  receiver.stop(true);
  await removeByPrefix(`staxa-${PREFIX}`);
  const imgs = (await dockerCli(["images", "-q", "--filter", `reference=staxa/${PREFIX}*`])).out.split("\n").filter(Boolean);
  if (imgs.length) await dockerCli(["rmi", "-f", ...imgs]);
  await caddy?.stop();
  for (const d of [dataDir, logDir, repo, crashRepo]) if (d) rmSync(d, { recursive: true, force: true });
}, 60_000);

describe("planted secrets", () => {
  const name = `${PREFIX}-app`;
  let tenantId = "";
  let webhookSecret = "";
  const images: string[] = [];
  const buildLogs: Array<{ where: string; body: string }> = [];
  let sse = "";
  let crashId = "";
  let crashSse = "";

  test("plant: a webhook, a registry credential, a tenant with secret env; it deploys and the container has them", async () => {
    const hook = await api(
      "POST",
      "/api/v1/webhooks",
      { url: `http://127.0.0.1:${receiver.port}/hook`, events: ["tenant.ready", "deployment.succeeded", "deployment.started"] },
      false,
    );
    expect(hook.status).toBe(201);
    webhookSecret = hook.json.data.secret; // shown once, in this answer only: it is not kept for the grep
    expect(webhookSecret).toMatch(/^whsec_/);
    const reg = await api("POST", "/api/v1/registries", {
      name: "planted",
      registry_url: "http://127.0.0.1:9",
      username: "planter",
      password: SECRETS.REGISTRY_PASSWORD,
    });
    expect(reg.status).toBe(201);
    const verify = await api("POST", `/api/v1/registries/${reg.json.data.id}/verify`); // fails (nothing listens): its error must not echo the password
    expect(verify.status).toBeGreaterThanOrEqual(400);
    await api("GET", `/api/v1/registries/${reg.json.data.id}`);

    const r = await api("POST", "/api/v1/tenants", {
      name,
      source_type: "github",
      repo_url: `file://${repo}`,
      app_port: 3000,
      env: { API_TOKEN: SECRETS.API_TOKEN, DATABASE_URL },
    });
    expect(r.status).toBe(202);
    tenantId = r.json.data.id;
    const ev = await fetch(`http://127.0.0.1:${API_PORT}/api/v1/tenants/${tenantId}/events`, {
      headers: { authorization: `Bearer ${key}` },
      signal: AbortSignal.timeout(150_000),
    });
    sse = await ev.text();
    expect(sse).toContain('"stage":"ready"');
    expect(await viaCaddy(HTTP_PORT, `${name}.${BASE}`, "/index.html")).toEqual({ status: 200, body: "secrets app" });
    expect(await viaCaddy(HTTP_PORT, `${name}.${BASE}`, "/build-env.txt")).toEqual({ status: 200, body: "build saw [] []\n" });

    const put = await api("PUT", `/api/v1/tenants/${tenantId}/env`, {
      API_TOKEN: SECRETS.API_TOKEN,
      DATABASE_URL,
      PLAIN: "visible",
    });
    expect(put.status).toBe(202);
    for (const id of put.json.meta.deployment_ids as string[]) {
      const deadline = Date.now() + 120_000;
      while ((await api("GET", `/api/v1/tenants/${tenantId}/deployments/${id}`)).json.data.status !== "succeeded") {
        expect(Date.now()).toBeLessThan(deadline);
        await Bun.sleep(200);
      }
    }
    const masked = await api("GET", `/api/v1/tenants/${tenantId}/env`);
    expect(masked.json.data).toEqual([
      { key: "API_TOKEN", value: "****" },
      { key: "DATABASE_URL", value: "****" },
      { key: "PLAIN", value: "visible" },
    ]);
    await api("GET", `/api/v1/tenants/${tenantId}`);
    await api("GET", "/api/v1/tenants");
    await api("GET", `/api/v1/tenants/${tenantId}/services`);
    await api("GET", "/api/v1/registries");
    await api("GET", "/api/v1/webhooks");
    const hooks = (await api("GET", "/api/v1/webhooks")).json.data;
    await api("GET", `/api/v1/webhooks/${hooks[0].id}/deliveries`);

    // The one legitimate place: the running container's env (and so what the app itself prints).
    // The container the env redeploy replaced drains for STAXA_DRAIN_SEC first.
    let ps: string[] = [];
    for (const until = Date.now() + 30_000; Date.now() < until; await Bun.sleep(200)) {
      ps = (await dockerCli(["ps", "-q", "--filter", `label=staxa.tenant=${name}`])).out.trim().split("\n").filter(Boolean);
      if (ps.length === 1) break;
    }
    expect(ps).toHaveLength(1);
    const info = JSON.parse((await dockerCli(["inspect", ps[0]])).out)[0];
    expect(info.Config.Env).toContain(`API_TOKEN=${SECRETS.API_TOKEN}`);
    expect(info.Config.Env).toContain(`DATABASE_URL=${DATABASE_URL}`);
    const appLogs = await fetch(`http://127.0.0.1:${API_PORT}/api/v1/tenants/${tenantId}/logs?lines=500`, {
      headers: { authorization: `Bearer ${key}` },
    }).then((x) => x.text());
    expect(appLogs).toContain(SECRETS.API_TOKEN); // the tenant's own output, shown to its owner: expected

    const crash = await api("POST", "/api/v1/tenants", {
      name: `${PREFIX}-crash`,
      source_type: "github",
      repo_url: `file://${crashRepo}`,
      app_port: 3000,
      env: { API_TOKEN: SECRETS.API_TOKEN, DATABASE_URL },
    });
    expect(crash.status).toBe(202);
    crashId = crash.json.data.id;
    crashSse = await fetch(`http://127.0.0.1:${API_PORT}/api/v1/tenants/${crashId}/events`, {
      headers: { authorization: `Bearer ${key}` },
      signal: AbortSignal.timeout(150_000),
    }).then((x) => x.text());
    expect(crashSse).toContain('"stage":"error"');
    expect(crashSse).toContain("connect failed: ****"); // the log tail is kept, the secret is not
    await api("GET", `/api/v1/tenants/${crashId}`);

    for (const t of [tenantId, crashId]) {
      for (const d of (await api("GET", `/api/v1/tenants/${t}/deployments?limit=100`)).json.data) {
        buildLogs.push({
          where: `build log ${d.id}`,
          body: (await api("GET", `/api/v1/tenants/${t}/deployments/${d.id}/logs`)).text,
        });
        if (d.image && !images.includes(d.image)) images.push(d.image);
      }
    }
    expect(images.length).toBeGreaterThan(1);
    const deadline = Date.now() + 20_000;
    while (received.length < 2 && Date.now() < deadline) await Bun.sleep(100);
    expect(received.length).toBeGreaterThan(0);
  }, 300_000);

  test("grep: no planted secret anywhere but the container's env", async () => {
    const planted: Array<[string, string]> = [
      ["API_TOKEN value", SECRETS.API_TOKEN],
      ["DATABASE_URL password", SECRETS.DB_PASSWORD],
      ["registry password", SECRETS.REGISTRY_PASSWORD],
      ["registry basic auth", Buffer.from(`planter:${SECRETS.REGISTRY_PASSWORD}`).toString("base64")],
      ["webhook secret", webhookSecret],
    ];
    expect(images.length * buildLogs.length * received.length).toBeGreaterThan(0); // the planting test ran through
    const hits: string[] = [];
    const check = (where: string, data: Buffer | string) => {
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
      for (const [what, s] of planted) if (buf.includes(s)) hits.push(`${what} in ${where}`);
    };
    const seen = new Set<string>();
    const walk = (d: string, label: string): void => {
      for (const e of readdirSync(d)) {
        const p = join(d, e);
        if (statSync(p).isDirectory()) walk(p, label);
        else (seen.add(e), check(`${label} ${p}`, readFileSync(p)));
      }
    };
    walk(dataDir, "data dir (running)"); // the WAL still holds the recent writes here
    expect([...seen]).toEqual(expect.arrayContaining(["staxa.db", "staxa.db-wal"]));
    for (const r of responses) check(`API answer ${r.where}`, r.body);
    for (const b of buildLogs) check(b.where, b.body);
    check("events (SSE replay)", sse);
    check("events of the crashed tenant (SSE replay)", crashSse);
    check(
      "events (SSE replay, after)",
      await fetch(`http://127.0.0.1:${API_PORT}/api/v1/tenants/${tenantId}/events`, {
        headers: { authorization: `Bearer ${key}` },
        signal: AbortSignal.timeout(30_000),
      }).then((x) => x.text()),
    );
    received.forEach((r, i) => check(`webhook delivery ${i}`, r));
    for (const image of images) {
      const saved = Bun.spawn(["docker", "image", "save", image], { stdout: "pipe", stderr: "ignore" });
      const tar = Buffer.from(await new Response(saved.stdout).arrayBuffer());
      expect(await saved.exited).toBe(0);
      expect(tar.length).toBeGreaterThan(1000);
      check(`image ${image} (docker image save)`, tar);
      check(
        `image ${image} (history, inspect)`,
        (await dockerCli(["history", "--no-trunc", image])).out + (await dockerCli(["image", "inspect", image])).out,
      );
    }
    await stopAppliance();
    walk(dataDir, "data dir (stopped)");
    check("appliance stdout", readFileSync(join(logDir, "stdout.log")));
    const stderr = readFileSync(join(logDir, "stderr.log"));
    expect(stderr.length).toBeGreaterThan(1000); // debug logging ran: the grep reads something
    check("appliance stderr", stderr);
    expect(hits).toEqual([]);
    check("control", `prefix ${SECRETS.API_TOKEN} suffix`); // the grep itself works
    expect(hits).toEqual(["API_TOKEN value in control"]);
  }, 180_000);
});
