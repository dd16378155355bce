// The per-request plugins after the hot-path work: every answer (200, 401, 404, 429) keeps its headers, body, metric and log line.
import { describe, expect, test } from "bun:test";
import { testApp } from "../../support/ctx.ts";
import type { ApplianceMetrics } from "../../../src/metrics/metrics.ts";
import { createLogger } from "../../../src/lib/log.ts";
import { RateLimiter } from "../../../src/api/plugins/rate-limit.ts";
import { generateKey } from "../../../src/core/identity/keys.ts";

const counter = (m: ApplianceMetrics) => (method: string, route: string, status: number) =>
  m.httpRequests.get({ method, route, status: String(status) });

describe("every answer of /api/v1", () => {
  test("200, 401 and 404 carry X-Request-Id and X-RateLimit-*, the envelope, one metric and one log line each", async () => {
    const lines: string[] = [];
    const { call, ctx } = testApp({ log: createLogger("info", (l) => lines.push(l)) });
    const count = counter(ctx.metrics);
    const before = [count("GET", "/api/v1/account", 200), count("GET", "/api/v1/account", 401)];
    const ok = await call("GET", "/api/v1/account");
    const denied = await call("GET", "/api/v1/account", undefined, { authorization: `Bearer ${generateKey("live")}` });
    const missing = await call("GET", "/api/v1/nothing-here");
    expect([ok.status, denied.status, missing.status]).toEqual([200, 401, 404]);
    for (const r of [ok, denied, missing]) {
      expect(r.headers.get("x-request-id")).toMatch(/^req_[0-9a-z]{16}$/);
      expect(r.headers.get("x-ratelimit-limit")).toMatch(/^\d+$/);
      expect(r.headers.get("x-ratelimit-remaining")).toMatch(/^\d+$/);
      expect(r.headers.get("x-ratelimit-reset")).toMatch(/^\d+$/);
      expect(r.headers.get("content-type")).toContain("application/json");
    }
    expect(ok.json.meta).toEqual({ request_id: ok.headers.get("x-request-id") });
    expect(denied.json.error).toMatchObject({
      code: "unauthorized",
      details: { request_id: denied.headers.get("x-request-id") },
    });
    expect(missing.json.error).toMatchObject({ code: "not_found", details: { request_id: missing.headers.get("x-request-id") } });
    expect([count("GET", "/api/v1/account", 200), count("GET", "/api/v1/account", 401)]).toEqual([before[0] + 1, before[1] + 1]);
    await Bun.sleep(0);
    const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "request");
    expect(logged.map((l) => [l.route, l.status, l.request_id])).toEqual([
      ["/api/v1/account", 200, ok.headers.get("x-request-id")],
      ["/api/v1/account", 401, denied.headers.get("x-request-id")],
      ["/*", 404, missing.headers.get("x-request-id")],
    ]);
  });

  test("a 429 raised before routing keeps its envelope and Retry-After, and is counted", async () => {
    const { call, ctx } = testApp({ limiter: new RateLimiter(1) });
    const count = counter(ctx.metrics);
    const before = count("GET", "unmatched", 429);
    let last = await call("GET", "/api/v1/account");
    for (let i = 0; i < 60 && last.status !== 429; i++) last = await call("GET", "/api/v1/account");
    expect(last.status).toBe(429);
    expect(last.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(last.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(last.json.error.code).toBe("rate_limited");
    expect(count("GET", "unmatched", 429)).toBe(before + 1);
  });
});

// Elysia compiles each route from what its hooks appear to read (its "sucrose" inference reads their source).
// A hook that passes its context to any function, or merely ends a call with a name ending in its
// parameter's name (`String(err.retryAfterSec)` with a context called `c`), is compiled as needing
// everything: every request then copies all headers into an object, parses cookies and the query, and
// awaits. That doubles the cost of GET /api/v1/account without failing any other test.
describe("what Elysia compiles for each request", () => {
  const compiled = () => {
    const { app } = testApp();
    return (app as any).router.history.map((r: any) => ({
      route: `${r.method} ${r.path}`,
      src: String(r.compile?.() ?? r.composed),
    }));
  };

  test("no route copies every header into an object or parses cookies", () => {
    const routes = compiled();
    expect(routes.length).toBeGreaterThan(50);
    expect(
      routes.filter((r: { src: string }) => /c\.headers=|parseCookie/.test(r.src)).map((r: { route: string }) => r.route),
    ).toEqual([]);
  });

  test("GET /api/v1/account and GET /healthz answer synchronously and parse no query", () => {
    const routes = compiled();
    for (const route of ["GET /api/v1/account", "GET /healthz"]) {
      const src = routes.find((r: { route: string }) => r.route === route)?.src ?? "";
      expect(src).toStartWith("function handle(c)");
      // Up to the catch: the error path may await the error hook.
      const success = src.slice(0, src.indexOf("}catch("));
      expect(success.length).toBeGreaterThan(100);
      expect(success).not.toMatch(/parseQuery|'server'|await /);
    }
  });
});
