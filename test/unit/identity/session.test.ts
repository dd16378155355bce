// Built-in dashboard login: setup status, the one-time setup token, login, session JWTs, register idempotency.
import { describe, expect, test } from "bun:test";
import { testCtx } from "../../support/ctx.ts";
import { createApp } from "../../../src/app.ts";
import { RateLimiter } from "../../../src/api/plugins/rate-limit.ts";
import { createJwtVerifier, ensureSetupToken } from "../../../src/core/identity/sessions.ts";
import { decodeJwt } from "../../../src/core/identity/jwt.ts";
import { ensureProvider } from "../../../src/core/identity/accounts.ts";
import { createKey } from "../../../src/core/identity/keys.ts";

function dashApp() {
  let clock = new Date();
  const ctx = testCtx({ now: () => clock });
  const app = createApp({ ...ctx, limiter: new RateLimiter(1000), verifyJwt: createJwtVerifier(ctx) });
  const call = async (method: string, path: string, body?: unknown, token?: string, headers: Record<string, string> = {}) => {
    const h: Record<string, string> = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    if (body !== undefined) h["content-type"] = "application/json";
    const res = await app.handle(
      new Request(`http://localhost${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) }),
    );
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined, text };
  };
  return { ctx, call, advance: (ms: number) => (clock = new Date(clock.getTime() + ms)) };
}

const ADMIN = { email: "Admin@Example.com", password: "correct horse battery", name: "Admin Co" };

async function setUp() {
  const t = dashApp();
  const token = ensureSetupToken(t.ctx)!;
  const r = await t.call("POST", "/api/v1/auth/setup", { token, ...ADMIN });
  expect(r.status).toBe(201);
  return { ...t, session: r.json.data.token as string, setup: r.json.data };
}

describe("setup", () => {
  test("status says setup is required until the first admin exists", async () => {
    const { call, ctx } = dashApp();
    expect((await call("GET", "/api/v1/auth/status")).json.data).toEqual({ setup_required: true });
    const token = ensureSetupToken(ctx)!;
    expect(token).toMatch(/^stx_setup_[a-z0-9]{32}$/);
    // Only the hash is stored.
    expect(JSON.stringify(ctx.db.query("SELECT * FROM settings").all())).not.toContain(token);
    expect((await call("POST", "/api/v1/auth/setup", { token, ...ADMIN })).status).toBe(201);
    expect((await call("GET", "/api/v1/auth/status")).json.data).toEqual({ setup_required: false });
  });

  test("a wrong or missing setup token is refused and creates nothing", async () => {
    const { call, ctx } = dashApp();
    ensureSetupToken(ctx);
    for (const token of ["stx_setup_" + "a".repeat(32), ""]) {
      const r = await call("POST", "/api/v1/auth/setup", { token, ...ADMIN });
      expect(r.status).toBe(401);
    }
    expect((await call("POST", "/api/v1/auth/setup", { ...ADMIN })).status).toBe(400);
    expect(ctx.db.query("SELECT COUNT(*) AS n FROM users").get()).toEqual({ n: 0 });
    expect(ctx.db.query("SELECT COUNT(*) AS n FROM providers").get()).toEqual({ n: 0 });
  });

  test("a restart makes a new token and the old one dies; no token at all before start-up", async () => {
    const { call, ctx } = dashApp();
    expect((await call("POST", "/api/v1/auth/setup", { token: "stx_setup_x", ...ADMIN })).status).toBe(401);
    const old = ensureSetupToken(ctx)!;
    const fresh = ensureSetupToken(ctx)!;
    expect(fresh).not.toBe(old);
    expect((await call("POST", "/api/v1/auth/setup", { token: old, ...ADMIN })).status).toBe(401);
    expect((await call("POST", "/api/v1/auth/setup", { token: fresh, ...ADMIN })).status).toBe(201);
  });

  test("the token works once: a second setup is 409 and start-up prints no token any more", async () => {
    const { call, ctx } = await setUp();
    const r = await call("POST", "/api/v1/auth/setup", { token: "whatever", ...ADMIN, email: "two@example.com" });
    expect(r.status).toBe(409);
    expect(ensureSetupToken(ctx)).toBeUndefined();
    expect(ctx.db.query("SELECT COUNT(*) AS n FROM settings WHERE key = 'setup_token_hash'").get()).toEqual({ n: 0 });
  });

  test("weak password and bad email are 400s naming the field", async () => {
    const { call, ctx } = dashApp();
    const token = ensureSetupToken(ctx)!;
    const weak = await call("POST", "/api/v1/auth/setup", { token, ...ADMIN, password: "short" });
    expect(weak.json.error.details.field).toBe("password");
    const email = await call("POST", "/api/v1/auth/setup", { token, ...ADMIN, email: "not-an-email" });
    expect(email.json.error.details.field).toBe("email");
  });

  test("setup attaches to a provider made earlier by `admin create-key` with the same email", async () => {
    const { call, ctx } = dashApp();
    const prv = ensureProvider(ctx.db, { email: "admin@example.com", name: null }).provider;
    const token = ensureSetupToken(ctx)!;
    const r = await call("POST", "/api/v1/auth/setup", { token, ...ADMIN });
    expect(r.json.data.user.provider_id).toBe(prv.id);
  });
});

describe("login and sessions", () => {
  test("login returns a short-lived HS256 JWT for the dashboard audience; the password is stored as argon2id", async () => {
    const { call, ctx } = await setUp();
    const r = await call("POST", "/api/v1/auth/login", { email: "admin@example.com", password: ADMIN.password });
    expect(r.status).toBe(200);
    const { token, expires_at } = r.json.data;
    const jwt = decodeJwt(token);
    expect(jwt.header.alg).toBe("HS256");
    expect(jwt.payload).toMatchObject({ iss: "staxa", aud: "staxa-dashboard", email: "admin@example.com" });
    expect((jwt.payload.exp as number) - (jwt.payload.iat as number)).toBe(ctx.config.sessionTtlSec);
    expect(Date.parse(expires_at)).toBe((jwt.payload.exp as number) * 1000);
    const row = ctx.db.query("SELECT password_hash FROM users").get() as { password_hash: string };
    expect(row.password_hash.startsWith("$argon2id$")).toBe(true);
    const sealed = ctx.db.query("SELECT value FROM settings WHERE key = 'session_signing_key'").get() as { value: string };
    expect(sealed.value.startsWith("v1:")).toBe(true); // sealed with the data dir's key, never plain
  });

  test("unknown email and wrong password get the same 401", async () => {
    const { call } = await setUp();
    const wrong = await call("POST", "/api/v1/auth/login", { email: "admin@example.com", password: "wrong password!!" });
    const unknown = await call("POST", "/api/v1/auth/login", { email: "nobody@example.com", password: "wrong password!!" });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.json.error.message).toBe(unknown.json.error.message);
  });

  test("a session token authenticates /account (live and, with X-Staxa-Mode, test) until it expires", async () => {
    const { call, session, setup, advance } = await setUp();
    const acct = await call("GET", "/api/v1/account", undefined, session);
    expect(acct.status).toBe(200);
    expect(acct.json.data).toMatchObject({ id: setup.user.provider_id, email: "admin@example.com", name: "Admin Co" });
    const keys = await call("POST", "/api/v1/api-keys", { name: "from dashboard", mode: "test" }, session, {
      "x-staxa-mode": "test",
    });
    expect(keys.status).toBe(201);
    expect(keys.json.data.key.startsWith("sk_test_")).toBe(true);
    advance(3600 * 1000 + 60_000);
    expect((await call("GET", "/api/v1/account", undefined, session)).status).toBe(401);
  });

  test("a tampered or foreign-signed session token is 401", async () => {
    const { call, session } = await setUp();
    const [h, p, s] = session.split(".");
    const payload = JSON.parse(Buffer.from(p, "base64url").toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, exp: payload.exp + 86400 })).toString("base64url")}.${s}`;
    expect((await call("GET", "/api/v1/account", undefined, forged)).status).toBe(401);
    const other = await setUp();
    expect((await other.call("GET", "/api/v1/account", undefined, session)).status).toBe(401);
  });

  test("logout answers 204 (stateless: the client drops the token)", async () => {
    const { call, session } = await setUp();
    expect((await call("POST", "/api/v1/auth/logout", undefined, session)).status).toBe(204);
  });
});

describe("register", () => {
  test("with a session JWT: the provider exists already → 200, same id", async () => {
    const { call, session, setup } = await setUp();
    const r = await call("POST", "/api/v1/register", { email: "admin@example.com", name: "Renamed?" }, session);
    expect(r.status).toBe(200);
    expect(r.json.data.id).toBe(setup.user.provider_id);
    expect(r.json.data.name).toBe("Admin Co");
  });

  test("idempotent for a new identity: 201 then 200 (OIDC identity, stubbed JWKS fetch)", async () => {
    const { generateKeyPairSync, sign } = await import("node:crypto");
    const kp = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const ctx = testCtx({}, { STAXA_JWT_JWKS_URL: "https://idp.example/jwks", STAXA_JWT_ISSUER: "https://idp.example" });
    const jwks = { keys: [{ ...kp.publicKey.export({ format: "jwk" }), kid: "k1" }] };
    const verifyJwt = createJwtVerifier(ctx, { fetch: (async () => Response.json(jwks)) as unknown as typeof fetch });
    const app = createApp({ ...ctx, limiter: new RateLimiter(1000), verifyJwt });
    const now = Math.floor(Date.now() / 1000);
    const input = `${Buffer.from(JSON.stringify({ alg: "RS256", kid: "k1" })).toString("base64url")}.${Buffer.from(JSON.stringify({ iss: "https://idp.example", sub: "u1", email: "new@example.com", email_verified: true, exp: now + 60 })).toString("base64url")}`;
    const jwt = `${input}.${sign("sha256", Buffer.from(input), kp.privateKey).toString("base64url")}`;
    const reg = () =>
      app.handle(
        new Request("http://localhost/api/v1/register", {
          method: "POST",
          headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
          body: JSON.stringify({ email: "new@example.com", name: "New" }),
        }),
      );
    const a = await reg();
    const b = await reg();
    expect([a.status, b.status]).toEqual([201, 200]);
    expect((await a.json()).data.id).toBe((await b.json()).data.id);
    expect(ctx.db.query("SELECT COUNT(*) AS n FROM providers WHERE email = 'new@example.com'").get()).toEqual({ n: 1 });
  });

  test("an API key cannot register; no credentials → 401; a missing email → 400", async () => {
    const { call, ctx, session } = await setUp();
    const prv = ensureProvider(ctx.db, { email: "k@example.com", name: null }).provider;
    const key = createKey(ctx.db, { providerId: prv.id, name: "k", mode: "live", scopes: ["*"], expiresAt: null }).raw;
    expect((await call("POST", "/api/v1/register", { email: "k@example.com" }, key)).status).toBe(401);
    expect((await call("POST", "/api/v1/register", { email: "k@example.com" })).status).toBe(401);
    const missing = await call("POST", "/api/v1/register", { name: "x" }, session);
    expect(missing.status).toBe(400);
    expect(missing.json.error.details.field).toBe("email");
  });
});
