// Webhooks end to end: a real deploy (Docker, Caddy, git) fires signed events to a receiver on loopback;
// hanging receivers slow neither notify() nor deploys; a receiver that is down gets everything once it is
// back, across a restart of the appliance (a child `staxa serve`); SSRF-refused URLs are 4xx.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { dockerCli, ensureTestImages, removeByPrefix, uniqueName, teardownE2e } from "../support/docker.ts";
import { commitVersion, e2eApp, fixtureRepo } from "../support/e2e-app.ts";
import { startWebhookWorker, type WebhookWorker } from "../../src/core/webhooks/delivery.ts";
import { verifyStaxaSignature } from "../../src/core/webhooks/signature.ts";
import { freePort } from "../support/ports.ts";

const ROOT = join(import.meta.dir, "../..");
const PREFIX = uniqueName("e2wh");
const BASE = "e2e-webhooks.test";
const ADMIN_PORT = 23000 + Math.floor(Math.random() * 400) * 2;
const HTTP_PORT = ADMIN_PORT + 1;
const LAB = { STAXA_ALLOW_PRIVATE_TARGETS: "1", STAXA_ALLOW_HTTP_WEBHOOKS: "1", STAXA_WEBHOOK_BACKOFF_DIVISOR: "1000" };
const cleanup: string[] = [];
let caddy: TestCaddy;

interface Received {
  at: number;
  body: string;
  signature: string | null;
  event: string | null;
  delivery: string | null;
}

/** A receiver on loopback recording each POST; `mode` can make it hang. */
function receiver(port = 0, mode: "ok" | "hang" = "ok") {
  const got: Received[] = [];
  let open = 0;
  const server = Bun.serve({
    port,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(req) {
      const body = await req.text();
      got.push({
        at: Date.now(),
        body,
        signature: req.headers.get("staxa-signature"),
        event: req.headers.get("staxa-event"),
        delivery: req.headers.get("staxa-delivery"),
      });
      if (mode === "hang") {
        open++;
        return new Promise<Response>(() => {});
      }
      return new Response("ok");
    },
  });
  return { server, got, url: `http://127.0.0.1:${server.port}/hook`, openRequests: () => open };
}

async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

beforeAll(async () => {
  await ensureTestImages();
  caddy = await startCaddy({ adminPort: ADMIN_PORT });
}, 120_000);

afterAll(async () => {
  await teardownE2e(PREFIX, caddy, cleanup);
}, 60_000);

describe("a real deploy", () => {
  let h: Awaited<ReturnType<typeof e2eApp>>;
  let worker: WebhookWorker;
  const good = receiver();
  const hanging = [receiver(0, "hang"), receiver(0, "hang")];
  let secret = "";

  beforeAll(async () => {
    h = await e2eApp({
      STAXA_BASE_DOMAIN: BASE,
      STAXA_PUBLIC_SCHEME: "http",
      STAXA_HTTP_PORT: String(HTTP_PORT),
      STAXA_HTTPS_PORT: String(HTTP_PORT + 800),
      STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
      STAXA_ALLOW_FILE_REPOS: "1",
      STAXA_HEALTH_TIMEOUT_SEC: "8",
      STAXA_DRAIN_SEC: "0",
      ...LAB,
    });
    cleanup.push(h.dataDir);
    worker = startWebhookWorker(h.ctx);
    const all = [
      "tenant.ready",
      "tenant.failed",
      "tenant.deleted",
      "deployment.started",
      "deployment.succeeded",
      "deployment.failed",
    ];
    const r = await h.call("POST", "/api/v1/webhooks", { url: good.url, events: all, description: "e2e" });
    expect(r.status).toBe(201);
    secret = r.json.data.secret;
    for (const hg of hanging) expect((await h.call("POST", "/api/v1/webhooks", { url: hg.url, events: all })).status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    good.server.stop(true);
    for (const hg of hanging) hg.server.stop(true);
    await worker?.stop();
  }, 30_000);

  test("the receiver gets each event of a deploy, signed; hanging receivers do not hold the deploy", async () => {
    const repo = await fixtureRepo("hooked v1");
    cleanup.push(repo);
    const r = await h.call("POST", "/api/v1/tenants", {
      name: `${PREFIX}-app`,
      source_type: "github",
      repo_url: `file://${repo}`,
      app_port: 3000,
    });
    expect(r.status).toBe(202);
    const tenantId = r.json.data.id;
    const depId = (await h.call("GET", `/api/v1/tenants/${tenantId}`)).json.data.deployments[0].id;
    const d = await h.waitDeployment(tenantId, depId);
    expect(d.status).toBe("succeeded");
    // When the deploy finished, the hanging receivers still held their unanswered requests: nobody waited for them.
    expect(hanging.reduce((n, hg) => n + hg.openRequests(), 0)).toBeGreaterThan(0);

    await waitFor("three events", () => good.got.length >= 3, 20_000);
    const events = good.got.map((g) => JSON.parse(g.body));
    expect(events.map((e) => e.event).sort()).toEqual(["deployment.started", "deployment.succeeded", "tenant.ready"]);
    for (const g of good.got) {
      expect(verifyStaxaSignature(secret, g.signature, g.body)).toBe(true);
      expect(verifyStaxaSignature(secret, g.signature, g.body + " ")).toBe(false);
      expect(g.delivery).toMatch(/^whd_/);
      expect(g.event).toBe(JSON.parse(g.body).event);
    }
    const ready = events.find((e) => e.event === "tenant.ready");
    expect(ready).toMatchObject({
      tenant_id: tenantId,
      data: { status: "ready", url: `http://${PREFIX}-app.${BASE}:${HTTP_PORT}` },
    });
    expect(ready.id).toMatch(/^evt_/);
    expect(ready.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(new Set(events.map((e) => e.id)).size).toBe(3);

    // A failing version: deployment.started + deployment.failed.
    good.got.length = 0;
    await commitVersion(repo, "hooked v2", { cmd: ["sh", "-c", "exit 3"] });
    const dep2 = await h.call("POST", `/api/v1/tenants/${tenantId}/deployments`, {});
    expect((await h.waitDeployment(tenantId, dep2.json.data.id)).status).toBe("failed");
    await waitFor("failure events", () => good.got.some((g) => g.event === "deployment.failed"), 20_000);
    expect(good.got.map((g) => g.event)).toContain("deployment.started");

    // Delete: tenant.deleted.
    expect((await h.call("DELETE", `/api/v1/tenants/${tenantId}`)).status).toBe(202);
    await waitFor("tenant.deleted", () => good.got.some((g) => g.event === "tenant.deleted"), 60_000);

    // The API lists the deliveries, newest first, with their outcome.
    const hooks = (await h.call("GET", "/api/v1/webhooks")).json.data;
    const goodHook = hooks.find((x: { url: string }) => x.url === good.url);
    const list = (await h.call("GET", `/api/v1/webhooks/${goodHook.id}/deliveries?limit=100`)).json;
    expect(list.data.length).toBeGreaterThanOrEqual(6);
    expect(list.data[0].event).toBe("tenant.deleted");
    expect(list.data.every((x: { status: string }) => x.status === "delivered")).toBe(true);
  }, 180_000);

  test("notify() returns at once while receivers hang (it only writes rows; sending is the worker's)", async () => {
    const providerId = h.ctx.db.query<{ id: string }, []>("SELECT id FROM providers").get()!.id;
    let slowest = 0;
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      h.ctx.bus.notify({ event: "deployment.started", provider_id: providerId, mode: "live", tenant_id: "ten_fake", data: {} });
      slowest = Math.max(slowest, performance.now() - t0);
    }
    expect(hanging.reduce((n, hg) => n + hg.openRequests(), 0)).toBeGreaterThan(0);
    expect(slowest).toBeLessThan(200); // an fsync'd insert, never the 10 s receiver timeout
  });
});

/** A child appliance (`bun run src/main.ts serve`) over a data dir that outlives it. */
function childAppliance(dataDir: string, port: number) {
  const env = () => ({
    ...process.env,
    STAXA_DATA_DIR: dataDir,
    STAXA_PORT: String(port),
    STAXA_HOST: "127.0.0.1",
    STAXA_MANAGE_CADDY: "0",
    STAXA_LOG_LEVEL: "error",
    STAXA_RESOLVER_PORT: String(freePort()),
    STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
    STAXA_BASE_DOMAIN: BASE,
    STAXA_PUBLIC_SCHEME: "http",
    STAXA_HTTP_PORT: String(HTTP_PORT),
    STAXA_HTTPS_PORT: String(HTTP_PORT + 800),
    STAXA_ALLOW_FILE_REPOS: "1",
    ...LAB,
  });
  return {
    env,
    async start() {
      const proc = Bun.spawn(["bun", "run", "src/main.ts", "serve"], {
        cwd: ROOT,
        env: env(),
        stdout: "ignore",
        stderr: "ignore",
      });
      const deadline = Date.now() + 20_000;
      while (
        !(await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.ok,
          () => false,
        ))
      ) {
        if (Date.now() > deadline || proc.exitCode !== null) throw new Error("child appliance did not start");
        await Bun.sleep(100);
      }
      return proc;
    },
  };
}

describe("a child appliance", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "staxa-e2e-webhooks-"));
  cleanup.push(dataDir);
  const port = freePort();
  const app = childAppliance(dataDir, port);
  let proc: ReturnType<typeof Bun.spawn> | undefined;
  let key = "";
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    const k = Bun.spawnSync(["bun", "run", "src/main.ts", "admin", "create-key", "--email", "hooks@example.com"], {
      cwd: ROOT,
      env: app.env(),
    });
    if (k.exitCode !== 0) throw new Error(k.stderr.toString());
    key = k.stdout.toString().trim();
    proc = await app.start();
  }, 60_000);

  afterAll(() => {
    if (proc && proc.exitCode === null) proc.kill("SIGKILL");
  });

  test("refuses SSRF targets and unknown events with 4xx naming the field", async () => {
    const cases: Array<[unknown, string]> = [
      [{ url: "http://127.0.0.1:2019/", events: ["tenant.ready"] }, "url"],
      [{ url: `http://127.0.0.1:${ADMIN_PORT}/load`, events: ["tenant.ready"] }, "url"],
      [{ url: `http://127.0.0.1:${port}/api/v1/tenants`, events: ["tenant.ready"] }, "url"],
      [{ url: "http://169.254.169.254/", events: ["tenant.ready"] }, "url"],
      [{ url: "ftp://x", events: ["tenant.ready"] }, "url"],
      [{ url: "http://127.0.0.1:9/", events: ["tenant.exploded"] }, "events"],
    ];
    for (const [body, field] of cases) {
      const r = await api("POST", "/api/v1/webhooks", body);
      expect([JSON.stringify(body), r.status, r.json.error.details.field]).toEqual([JSON.stringify(body), 400, field]);
    }
  });

  test("a receiver that is down gets every delivery once it is back, across a restart", async () => {
    const rport = freePort(); // nothing listens here yet
    const created = await api("POST", "/api/v1/webhooks", {
      url: `http://127.0.0.1:${rport}/hook`,
      events: ["tenant.failed", "deployment.started", "deployment.failed"],
    });
    expect(created.status).toBe(201);
    const { id: hookId, secret } = created.json.data;
    // A tenant whose clone fails: deployment.started, deployment.failed, tenant.failed — no image needed.
    const t = await api("POST", "/api/v1/tenants", {
      name: `${PREFIX}-down`,
      source_type: "github",
      repo_url: `file://${dataDir}/no-such-repo`,
    });
    expect(t.status).toBe(202);
    let deliveries: Array<{ id: string; status: string; attempts: number; event: string }> = [];
    const deadline = Date.now() + 60_000;
    do {
      await Bun.sleep(200);
      deliveries = (await api("GET", `/api/v1/webhooks/${hookId}/deliveries`)).json.data;
    } while (!(deliveries.length === 3 && deliveries.every((d) => d.attempts >= 1)) && Date.now() < deadline);
    expect(deliveries.map((d) => d.event).sort()).toEqual(["deployment.failed", "deployment.started", "tenant.failed"]);
    expect(deliveries.every((d) => d.status === "pending" && d.attempts >= 1)).toBe(true);

    proc!.kill("SIGKILL"); // no goodbye: the rows in SQLite are all that survives
    await proc!.exited;
    const back = receiver(rport);
    try {
      proc = await app.start();
      await waitFor("all deliveries", () => new Set(back.got.map((g) => g.delivery)).size >= 3, 60_000);
      expect(new Set(back.got.map((g) => JSON.parse(g.body).event))).toEqual(
        new Set(["deployment.started", "deployment.failed", "tenant.failed"]),
      );
      for (const g of back.got) expect(verifyStaxaSignature(secret, g.signature, g.body)).toBe(true);
      // The row is updated just after the receiver answered: poll briefly.
      let final: Array<{ status: string; attempts: number; last_status_code: number }> = [];
      const until = Date.now() + 10_000;
      do {
        final = (await api("GET", `/api/v1/webhooks/${hookId}/deliveries`)).json.data;
        if (final.every((d) => d.status === "delivered")) break;
        await Bun.sleep(100);
      } while (Date.now() < until);
      expect(final.map((d) => d.status)).toEqual(["delivered", "delivered", "delivered"]);
      expect(final.every((d) => d.attempts >= 2 && d.last_status_code === 200)).toBe(true);
    } finally {
      back.server.stop(true);
    }
  }, 120_000);
});
