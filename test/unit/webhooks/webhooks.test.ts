// Webhooks: the API (validation, secrets shown once, isolation), signatures, backoff, and the worker against a loopback receiver.
import { describe, expect, test, afterAll } from "bun:test";
import { testApp } from "../../support/ctx.ts";
import { createKey } from "../../../src/core/identity/keys.ts";
import { ensureProvider } from "../../../src/core/identity/accounts.ts";
import { signPayload, verifyStaxaSignature } from "../../../src/core/webhooks/signature.ts";
import { BACKOFF_SEC, MAX_ATTEMPTS, backoffMs, enqueue, startWebhookWorker } from "../../../src/core/webhooks/delivery.ts";
import * as deliveries from "../../../src/store/webhook-deliveries.ts";

const LAB = { STAXA_ALLOW_PRIVATE_TARGETS: "1", STAXA_ALLOW_HTTP_WEBHOOKS: "1", STAXA_WEBHOOK_BACKOFF_DIVISOR: "1000" };
const received: Array<{ headers: Headers; body: string }> = [];
let failNext = 0;
const receiver = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    const body = await req.text();
    if (failNext > 0) {
      failNext--;
      return new Response("nope", { status: 503 });
    }
    received.push({ headers: req.headers, body });
    return new Response("ok");
  },
});
afterAll(() => receiver.stop(true));
const hookUrl = `http://127.0.0.1:${receiver.port}/hook`;

describe("webhooks API", () => {
  test("create shows the secret once; list/get/patch/delete", async () => {
    const { call } = testApp({}, LAB);
    const created = await call("POST", "/api/v1/webhooks", {
      url: hookUrl,
      events: ["tenant.ready", "deployment.failed"],
      description: "ops",
    });
    expect(created.status).toBe(201);
    expect(created.json.data.secret).toMatch(/^whsec_[a-z0-9]{32}$/);
    const id = created.json.data.id;
    const got = await call("GET", `/api/v1/webhooks/${id}`);
    expect(got.status).toBe(200);
    expect(got.json.data.secret).toBeUndefined();
    expect(got.json.data).toMatchObject({
      url: hookUrl,
      events: ["tenant.ready", "deployment.failed"],
      description: "ops",
      active: true,
    });
    const list = await call("GET", "/api/v1/webhooks?limit=10");
    expect(list.json.meta).toMatchObject({ total: 1, limit: 10, offset: 0 });
    expect(list.text).not.toContain("whsec_");
    const patched = await call("PATCH", `/api/v1/webhooks/${id}`, { active: false, events: ["tenant.deleted"] });
    expect(patched.json.data).toMatchObject({ active: false, events: ["tenant.deleted"], url: hookUrl });
    expect((await call("DELETE", `/api/v1/webhooks/${id}`)).status).toBe(204);
    expect((await call("GET", `/api/v1/webhooks/${id}`)).status).toBe(404);
  });

  test("the secret is sealed at rest", async () => {
    const { call, ctx } = testApp({}, LAB);
    const created = await call("POST", "/api/v1/webhooks", { url: hookUrl, events: ["tenant.ready"] });
    const row = ctx.db.query<{ secret_enc: string }, []>("SELECT secret_enc FROM webhooks").get()!;
    expect(row.secret_enc).not.toContain(created.json.data.secret);
    expect(ctx.box.open(row.secret_enc)).toBe(created.json.data.secret);
  });

  test("bad input is a 400 naming the field, and nothing is written", async () => {
    const { call, ctx } = testApp({}, LAB);
    const cases: Array<[unknown, string]> = [
      [{ url: "http://127.0.0.1:2019/", events: ["tenant.ready"] }, "url"],
      [{ url: "http://169.254.169.254/", events: ["tenant.ready"] }, "url"],
      [{ url: "ftp://x", events: ["tenant.ready"] }, "url"],
      [{ url: "file:///etc/passwd", events: ["tenant.ready"] }, "url"],
      [{ url: hookUrl, events: ["tenant.exploded"] }, "events"],
      [{ url: hookUrl, events: [] }, "events"],
      [{ url: hookUrl }, "events"],
      [{ events: ["tenant.ready"] }, "url"],
    ];
    for (const [body, field] of cases) {
      const r = await call("POST", "/api/v1/webhooks", body);
      expect([JSON.stringify(body), r.status, r.json.error.details.field]).toEqual([JSON.stringify(body), 400, field]);
    }
    expect(ctx.db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM webhooks").get()!.n).toBe(0);
  });

  test("private targets are refused without the lab setting, and http without its setting", async () => {
    const { call } = testApp({}, {});
    expect((await call("POST", "/api/v1/webhooks", { url: "https://127.0.0.1:4443/", events: ["tenant.ready"] })).status).toBe(
      400,
    );
    expect(
      (await call("POST", "/api/v1/webhooks", { url: "http://example.com/", events: ["tenant.ready"] })).json.error.details.field,
    ).toBe("url");
  });

  test("foreign ids and the other mode answer 404; a read-only key cannot write", async () => {
    const { call, ctx, app } = testApp({}, LAB);
    const id = (await call("POST", "/api/v1/webhooks", { url: hookUrl, events: ["tenant.ready"] })).json.data.id;
    const other = ensureProvider(ctx.db, { email: "other@example.com", name: "Other" }).provider;
    const keys = {
      foreign: createKey(ctx.db, { providerId: other.id, name: "o", mode: "live", scopes: ["*"], expiresAt: null }).raw,
      testMode: createKey(ctx.db, {
        providerId: ensureProvider(ctx.db, { email: "owner@example.com", name: "Owner" }).provider.id,
        name: "t",
        mode: "test",
        scopes: ["*"],
        expiresAt: null,
      }).raw,
    };
    for (const key of Object.values(keys)) {
      for (const [method, path] of [
        ["GET", `/webhooks/${id}`],
        ["PATCH", `/webhooks/${id}`],
        ["DELETE", `/webhooks/${id}`],
        ["GET", `/webhooks/${id}/deliveries`],
        ["POST", `/webhooks/${id}/deliveries/whd_x/redeliver`],
      ]) {
        const res = await app.handle(
          new Request(`http://localhost/api/v1${path}`, {
            method,
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            body: method === "PATCH" ? "{}" : undefined,
          }),
        );
        expect([method, path, res.status]).toEqual([method, path, 404]);
      }
    }
    const ro = createKey(ctx.db, {
      providerId: ensureProvider(ctx.db, { email: "owner@example.com", name: "Owner" }).provider.id,
      name: "ro",
      mode: "live",
      scopes: ["webhooks:read"],
      expiresAt: null,
    }).raw;
    const denied = await app.handle(
      new Request("http://localhost/api/v1/webhooks", {
        method: "POST",
        headers: { authorization: `Bearer ${ro}`, "content-type": "application/json" },
        body: JSON.stringify({ url: hookUrl, events: ["tenant.ready"] }),
      }),
    );
    expect(denied.status).toBe(403);
  });
});

describe("signatures", () => {
  test("verify accepts its own signature and refuses tampering, other secrets and old timestamps", () => {
    const now = 1_700_000_000;
    const h = signPayload("whsec_a", '{"x":1}', now);
    expect(verifyStaxaSignature("whsec_a", h, '{"x":1}', 300, now + 10)).toBe(true);
    expect(verifyStaxaSignature("whsec_a", h, '{"x":2}', 300, now)).toBe(false);
    expect(verifyStaxaSignature("whsec_b", h, '{"x":1}', 300, now)).toBe(false);
    expect(verifyStaxaSignature("whsec_a", h, '{"x":1}', 300, now + 301)).toBe(false);
    expect(verifyStaxaSignature("whsec_a", "garbage", '{"x":1}', 300, now)).toBe(false);
    expect(verifyStaxaSignature("whsec_a", `${h},v1=${"0".repeat(64)}`, '{"x":1}', 300, now)).toBe(true);
  });
});

test("backoff: 10 attempts spread over more than a day, jitter only adds", () => {
  expect(MAX_ATTEMPTS).toBe(10);
  const total = BACKOFF_SEC.reduce((a, b) => a + b, 0);
  expect(total).toBeGreaterThan(24 * 3600);
  expect(backoffMs(1, 1, () => 0)).toBe(30_000);
  expect(backoffMs(1, 1, () => 0.999)).toBeLessThanOrEqual(37_500);
  expect(backoffMs(9, 1, () => 0)).toBe(43_200_000);
  expect(backoffMs(2, 1000, () => 0)).toBe(120);
});

describe("delivery", () => {
  test("a notification reaches a subscribed receiver, signed; unsubscribed events and other modes are not sent", async () => {
    const { call, ctx, provider } = testApp({}, LAB);
    const secret = (await call("POST", "/api/v1/webhooks", { url: hookUrl, events: ["deployment.succeeded"] })).json.data.secret;
    const worker = startWebhookWorker(ctx);
    received.length = 0;
    ctx.bus.notify({ event: "deployment.failed", provider_id: provider.id, mode: "live", tenant_id: "ten_x", data: {} });
    ctx.bus.notify({ event: "deployment.succeeded", provider_id: provider.id, mode: "test", tenant_id: "ten_x", data: {} });
    ctx.bus.notify({
      event: "deployment.succeeded",
      provider_id: provider.id,
      mode: "live",
      tenant_id: "ten_x",
      data: { deployment_id: "dep_1" },
    });
    await worker.tick();
    await Bun.sleep(50);
    await worker.stop();
    expect(received.length).toBe(1);
    const { headers, body } = received[0];
    const payload = JSON.parse(body);
    expect(payload).toMatchObject({ event: "deployment.succeeded", tenant_id: "ten_x", data: { deployment_id: "dep_1" } });
    expect(payload.id).toMatch(/^evt_/);
    expect(headers.get("staxa-event")).toBe("deployment.succeeded");
    expect(headers.get("staxa-delivery")).toMatch(/^whd_/);
    expect(verifyStaxaSignature(secret, headers.get("staxa-signature"), body)).toBe(true);
  });

  test("a failing receiver is retried with backoff until it answers 2xx; the API shows the attempts", async () => {
    const { call, ctx, provider } = testApp({}, LAB);
    const id = (await call("POST", "/api/v1/webhooks", { url: hookUrl, events: ["tenant.ready"] })).json.data.id;
    received.length = 0;
    failNext = 2;
    const [deliveryId] = enqueue(ctx, {
      event: "tenant.ready",
      provider_id: provider.id,
      mode: "live",
      tenant_id: "ten_y",
      data: {},
      timestamp: "2025-01-01T00:00:00Z",
    });
    const worker = startWebhookWorker(ctx);
    const deadline = Date.now() + 5000;
    while (deliveries.get(ctx.db, id, deliveryId).status !== "delivered" && Date.now() < deadline) await Bun.sleep(50);
    await worker.stop();
    const list = await call("GET", `/api/v1/webhooks/${id}/deliveries`);
    expect(list.json.data[0]).toMatchObject({
      id: deliveryId,
      status: "delivered",
      attempts: 3,
      last_status_code: 200,
      next_attempt_at: null,
    });
    expect(received.length).toBe(1);
    const again = await call("POST", `/api/v1/webhooks/${id}/deliveries/${deliveryId}/redeliver`);
    expect(again.status).toBe(202);
    expect(again.json.data).toMatchObject({ status: "pending", attempts: 0 });
    expect((await call("POST", `/api/v1/webhooks/${id}/deliveries/whd_nope/redeliver`)).status).toBe(404);
  });
});
