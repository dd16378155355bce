// The envelope: single/list/error shapes, every error status mapped in one place, request ids, no stack traces.
import { describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { envelope, one, page, all } from "../../../src/api/plugins/envelope.ts";
import {
  AppError,
  Conflict,
  Forbidden,
  Invalid,
  NotFound,
  PayloadTooLarge,
  RateLimited,
  Unauthorized,
  Unprocessable,
  Upstream,
} from "../../../src/lib/errors.ts";
import { silentLogger } from "../../../src/lib/log.ts";
import { testApp } from "../../support/ctx.ts";

const THROWERS: Array<[string, () => Error, number, string]> = [
  ["invalid", () => new Invalid("name", "name is required"), 400, "validation_error"],
  ["unauthorized", () => new Unauthorized(), 401, "unauthorized"],
  ["forbidden", () => new Forbidden("insufficient_scope", "no"), 403, "insufficient_scope"],
  ["notfound", () => new NotFound("Tenant"), 404, "not_found"],
  ["conflict", () => new Conflict("name taken"), 409, "conflict"],
  ["toolarge", () => new PayloadTooLarge(10), 413, "payload_too_large"],
  ["unprocessable", () => new Unprocessable("tenant_limit", "limit"), 422, "tenant_limit"],
  ["ratelimited", () => new RateLimited(7), 429, "rate_limited"],
  ["upstream", () => new Upstream("docker", "down"), 502, "upstream_error"],
  ["appbase", () => new AppError("weird", "weird"), 500, "weird"],
  ["crash", () => new Error("secret internals at /src/x.ts:12"), 500, "internal_error"],
];

function errorApp() {
  let app = new Elysia().use(envelope({ log: silentLogger, maxBodyBytes: 1024 }));
  for (const [name, make] of THROWERS)
    app = app.get(`/e/${name}`, () => {
      throw make();
    }) as any;
  return app
    .get("/one", () => one({ id: "x" }))
    .get("/page", () => page([{ id: 1 }, { id: 2 }], 42, 2, 10))
    .get("/all", () => all([1, 2, 3]))
    .post("/echo", ({ body }) => one(body));
}

const get = (app: { handle(r: Request): Promise<Response> }, path: string, init?: RequestInit) =>
  app.handle(new Request(`http://localhost${path}`, init));

describe("error statuses", () => {
  const app = errorApp();
  for (const [name, , status, code] of THROWERS) {
    test(`${name} → ${status} ${code}`, async () => {
      const res = await get(app, `/e/${name}`);
      expect(res.status).toBe(status);
      expect(res.headers.get("content-type")).toContain("application/json");
      const body = await res.json();
      expect(Object.keys(body)).toEqual(["error"]);
      expect(body.error.code).toBe(code);
      expect(typeof body.error.message).toBe("string");
      expect(typeof body.error.details).toBe("object");
      const text = JSON.stringify(body);
      expect(text).not.toContain("at ");
      expect(text).not.toContain(".ts:");
    });
  }

  test("400 names the field", async () => {
    const body = await (await get(app, "/e/invalid")).json();
    expect(body.error.details.field).toBe("name");
  });

  test("429 carries Retry-After", async () => {
    const res = await get(app, "/e/ratelimited");
    expect(res.headers.get("retry-after")).toBe("7");
  });

  test("an unexpected error says nothing of its internals", async () => {
    const body = await (await get(app, "/e/crash")).json();
    expect(body.error.message).toBe("Internal server error");
    expect(JSON.stringify(body)).not.toContain("secret internals");
  });

  test("oversized body → 413", async () => {
    const body = JSON.stringify({ x: "a".repeat(5000) });
    // Real clients send Content-Length (Bun's own maxRequestBodySize catches chunked bodies at the socket).
    const res = await get(app, "/echo", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(body.length) },
      body,
    });
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe("payload_too_large");
  });

  test("malformed JSON → 400 naming the body", async () => {
    const res = await get(app, "/echo", { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" });
    expect(res.status).toBe(400);
    expect((await res.json()).error.details.field).toBe("body");
  });
});

describe("success shapes", () => {
  const app = errorApp();
  test("single: {data, meta:{request_id}}", async () => {
    const body = await (await get(app, "/one")).json();
    expect(body.data).toEqual({ id: "x" });
    expect(body.meta.request_id).toMatch(/^req_[a-z0-9]{16}$/);
  });
  test("paginated list: meta total/limit/offset", async () => {
    const body = await (await get(app, "/page")).json();
    expect(body.data).toEqual([{ id: 1 }, { id: 2 }]);
    expect(body.meta).toMatchObject({ total: 42, limit: 2, offset: 10 });
    expect(typeof body.meta.request_id).toBe("string");
  });
  test("unpaginated list: meta total", async () => {
    const body = await (await get(app, "/all")).json();
    expect(body.meta.total).toBe(3);
  });
});

describe("request ids and the real app", () => {
  test("X-Request-Id is set, matches meta, and a sane client id is echoed", async () => {
    const { call } = testApp();
    const r = await call("GET", "/api/v1/account");
    expect(r.headers.get("x-request-id")).toBe(r.json.meta.request_id);
    const mine = await call("GET", "/api/v1/account", undefined, { "x-request-id": "client-abc-12345" });
    expect(mine.headers.get("x-request-id")).toBe("client-abc-12345");
    const evil = await call("GET", "/api/v1/account", undefined, { "x-request-id": "bad id\twith<script>" });
    expect(evil.headers.get("x-request-id")).toMatch(/^req_/);
  });

  test("unknown route → 404 envelope with a request id", async () => {
    const { call } = testApp();
    const r = await call("GET", "/api/v1/no-such-thing");
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe("not_found");
    expect(r.headers.get("x-request-id")).toMatch(/^req_/);
  });

  test("errors of the real app carry the request id in details", async () => {
    const { call } = testApp();
    const r = await call("GET", "/api/v1/templates/tpl_nope");
    expect(r.status).toBe(404);
    expect(r.json.error.details.request_id).toBe(r.headers.get("x-request-id"));
  });

  test("body over STAXA_MAX_BODY_BYTES → 413 on a real route", async () => {
    const { call } = testApp({}, { STAXA_MAX_BODY_BYTES: "2048" });
    const body = JSON.stringify({ name: "x".repeat(4096) });
    const r = await call("POST", "/api/v1/api-keys", body, { "content-length": String(body.length) });
    expect(r.status).toBe(413);
  });
});
