// Rate limits: X-RateLimit-* on every response, a real 429 with Retry-After and the envelope, per key and per IP.
import { afterAll, describe, expect, test } from "bun:test";
import { testApp } from "../../support/ctx.ts";
import { RateLimiter, ruleFor } from "../../../src/api/plugins/rate-limit.ts";
import { createApp } from "../../../src/app.ts";
import { generateKey } from "../../../src/core/identity/keys.ts";
import { AUTH_FAILURES } from "../../../src/api/plugins/auth.ts";
import { ensureSetupToken } from "../../../src/core/identity/sessions.ts";

const HEADERS = ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"];

describe("headers", () => {
  test("every /api/v1 response carries X-RateLimit-*, errors included", async () => {
    const { call } = testApp();
    const cases: Array<[string, string, unknown, Record<string, string>, number]> = [
      ["GET", "/api/v1/account", undefined, {}, 200],
      ["GET", "/api/v1/account", undefined, { authorization: "Bearer nope" }, 401],
      ["GET", "/api/v1/nothing-here", undefined, {}, 404],
      ["POST", "/api/v1/api-keys", {}, {}, 400],
      ["GET", "/api/v1/auth/status", undefined, { authorization: "" }, 200],
    ];
    for (const [m, p, b, h, status] of cases) {
      const r = await call(m, p, b, h);
      expect(r.status).toBe(status);
      for (const name of HEADERS) expect(r.headers.get(name)).toMatch(/^\d+$/);
      expect(Number(r.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000 - 1);
    }
  });

  test("the reference's table picks the limit", () => {
    expect(ruleFor("POST", "/api/v1/tenants").limit).toBe(10);
    expect(ruleFor("POST", "/api/v1/tenants/ten_x/deploy").limit).toBe(20);
    expect(ruleFor("GET", "/api/v1/tenants").limit).toBe(60);
    expect(ruleFor("GET", "/api/v1/tenants/ten_x").limit).toBe(120);
    expect(ruleFor("GET", "/api/v1/tenants/ten_x/events").limit).toBe(10);
    expect(ruleFor("POST", "/api/v1/api-keys").limit).toBe(5);
    expect(ruleFor("GET", "/api/v1/account").limit).toBe(60);
  });
});

describe("429", () => {
  test("the 6th POST /api-keys in a minute is a 429 with Retry-After and the error envelope", async () => {
    const { call } = testApp({ limiter: new RateLimiter(1) });
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await call("POST", "/api/v1/api-keys", { name: `k${i}` });
      expect(r.status).toBe(201);
      expect(r.headers.get("x-ratelimit-limit")).toBe("5");
      seen.push(Number(r.headers.get("x-ratelimit-remaining")));
    }
    expect(seen).toEqual([4, 3, 2, 1, 0]);
    const r = await call("POST", "/api/v1/api-keys", { name: "k6" });
    expect(r.status).toBe(429);
    expect(r.json.error.code).toBe("rate_limited");
    const retry = Number(r.headers.get("retry-after"));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    expect(r.headers.get("x-ratelimit-remaining")).toBe("0");
    // A different rule of the same key is a different bucket.
    expect((await call("GET", "/api/v1/account")).status).toBe(200);
  });

  test("the 429 message names the limit that was hit and the seconds until it resets; X-RateLimit-* and Retry-After stay", async () => {
    const t = 1_000_000 * 60_000 + 18_000; // 18 s into a window: it resets in 42 s
    const { call } = testApp({ limiter: new RateLimiter(1, () => t) });
    for (let i = 0; i < 5; i++) expect((await call("POST", "/api/v1/api-keys", { name: `k${i}` })).status).toBe(201);
    const r = await call("POST", "/api/v1/api-keys", { name: "k6" });
    expect(r.status).toBe(429);
    expect(r.json.error.message).toBe(
      'Rate limit exceeded: 5 POST /api-keys requests per minute (limit "keys.create"); it resets in 42 s',
    );
    expect(r.json.error.details).toMatchObject({ retry_after: 42, limit: "keys.create", limit_per_minute: 5 });
    expect(r.headers.get("retry-after")).toBe("42");
    expect(r.headers.get("x-ratelimit-limit")).toBe("5");
    expect(r.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(r.headers.get("x-ratelimit-reset")).toBe(String(1_000_001 * 60));
  });

  test("limits are per key", async () => {
    const { call } = testApp({ limiter: new RateLimiter(1) });
    const second = (await call("POST", "/api/v1/api-keys", { name: "second" })).json.data.key;
    for (let i = 0; i < 4; i++) await call("POST", "/api/v1/api-keys", { name: `x${i}` });
    expect((await call("POST", "/api/v1/api-keys", { name: "over" })).status).toBe(429);
    const r = await call("POST", "/api/v1/api-keys", { name: "fresh" }, { authorization: `Bearer ${second}` });
    expect(r.status).toBe(201);
  });

  test("the window resets, and STAXA_RATE_LIMIT_SCALE multiplies", () => {
    let t = 1_000_000 * 60_000;
    const lim = new RateLimiter(1, () => t);
    const rule = { name: "r", limit: 2 };
    expect(lim.hit("a", rule).allowed).toBe(true);
    expect(lim.hit("a", rule).allowed).toBe(true);
    expect(lim.hit("a", rule).allowed).toBe(false);
    expect(lim.hit("b", rule).allowed).toBe(true);
    t += 60_000;
    expect(lim.hit("a", rule).allowed).toBe(true);
    const scaled = new RateLimiter(10, () => t);
    for (let i = 0; i < 20; i++) expect(scaled.hit("a", rule).allowed).toBe(true);
    expect(scaled.hit("a", rule).allowed).toBe(false);
  });
});

describe("per IP over a real socket", () => {
  const t = testApp({ limiter: new RateLimiter(1) });
  const server = createApp(t.deps).listen({ port: 0, hostname: "127.0.0.1" });
  const base = `http://127.0.0.1:${server.server!.port}`;
  afterAll(() => server.stop(true));

  test("requests without credentials share the client IP's budget", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 61; i++) statuses.push((await fetch(`${base}/api/v1/auth/status`)).status);
    expect(statuses.slice(0, 60).every((s) => s === 200)).toBe(true);
    expect(statuses[60]).toBe(429);
    expect(t.deps.limiter.hit("ip:127.0.0.1", ruleFor("GET", "/api/v1/auth/status")).allowed).toBe(false);
    // A real key keeps its own budget from the same address.
    expect((await fetch(`${base}/api/v1/account`, { headers: { authorization: `Bearer ${t.key}` } })).status).toBe(200);
  });

  test("rotating made-up keys from one IP hits the failed-authentication limit", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) {
      const res = await fetch(`${base}/api/v1/account`, { headers: { authorization: `Bearer ${generateKey("live")}` } });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 30).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(30)).toEqual([429, 429]);
    // Counted against the client's real address (not a shared "unknown" bucket).
    expect(t.deps.limiter.hit("ip:127.0.0.1", AUTH_FAILURES).allowed).toBe(false);
    expect(t.deps.limiter.hit("ip:unknown", AUTH_FAILURES).allowed).toBe(true);
  });
});

describe("failed-authentication limiting keys on the socket's peer address", () => {
  // A fixed clock: the argon2 checks take seconds, and the run must not straddle a window boundary.
  const t = testApp({ limiter: new RateLimiter(1, () => 1_000_000 * 60_000) });
  const server = createApp(t.deps).listen({ port: 0, hostname: "127.0.0.1" });
  const base = `http://127.0.0.1:${server.server!.port}`;
  afterAll(() => server.stop(true));
  const ADMIN = { email: "admin@example.com", password: "correct horse battery" };

  test("130 wrong passwords, each with a different made-up Authorization, X-Forwarded-For and Forwarded, get limited", async () => {
    const token = ensureSetupToken(t.ctx)!;
    const setup = await fetch(`${base}/api/v1/auth/setup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, ...ADMIN }),
    });
    expect(setup.status).toBe(201);
    const statuses: number[] = [];
    const messages: string[] = [];
    for (let i = 0; i < 130; i++) {
      const res = await fetch(`${base}/api/v1/auth/login`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${generateKey("live")}`,
          "x-forwarded-for": `203.0.113.${i % 250}`,
          forwarded: `for=198.51.100.${i % 250}`,
        },
        body: JSON.stringify({ email: ADMIN.email, password: `wrong password ${i}` }),
      });
      statuses.push(res.status);
      messages.push((await res.json()).error.message);
    }
    expect(statuses.slice(0, 30).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(30).every((s) => s === 429)).toBe(true);
    // The failed-authentication limit refuses the 31st; from the 61st the route's own per-address limit (the
    // Authorization header is no identity on /auth routes) refuses first.
    expect(messages[30]).toContain('limit "auth.failed"');
    expect(messages[60]).toContain('limit "other"');
    // Once limited, even the right password is refused before it is checked: the guess is not confirmed.
    const right = await fetch(`${base}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(ADMIN),
    });
    expect(right.status).toBe(429);
    expect(t.deps.limiter.peek("ip:127.0.0.1", AUTH_FAILURES).allowed).toBe(false);
    expect(t.deps.limiter.peek("ip:203.0.113.1", AUTH_FAILURES).allowed).toBe(true);
    expect(t.deps.limiter.peek("ip:unknown", AUTH_FAILURES).allowed).toBe(true);
  }, 120_000);
});
