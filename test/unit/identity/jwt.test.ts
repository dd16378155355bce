// OIDC JWTs against a JWKS served by the test: RS256/ES256 accepted; every forgery and stale token → 401.
import { afterAll, describe, expect, test } from "bun:test";
import { createHmac, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { testCtx } from "../../support/ctx.ts";
import { createApp } from "../../../src/app.ts";
import { RateLimiter } from "../../../src/api/plugins/rate-limit.ts";
import { createJwtVerifier } from "../../../src/core/identity/sessions.ts";
import { ensureProvider } from "../../../src/core/identity/accounts.ts";

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const rogue = generateKeyPairSync("rsa", { modulusLength: 2048 });
const later = generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwk = (k: KeyObject, kid: string, alg: string) => ({ ...k.export({ format: "jwk" }), kid, alg, use: "sig" });

const jwks = { keys: [jwk(rsa.publicKey, "rsa1", "RS256"), jwk(ec.publicKey, "ec1", "ES256")] };
let fetches = 0;
const jwksServer = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch() {
    fetches++;
    return Response.json(jwks);
  },
});
afterAll(() => jwksServer.stop(true));

const ISS = "https://clerk.example.test";
const AUD = "staxa-app";
const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

function token(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  key: KeyObject | null,
  alg = header.alg,
): string {
  const input = `${b64(header)}.${b64(claims)}`;
  if (!key) return `${input}.`;
  const data = Buffer.from(input);
  const sig = alg === "ES256" ? sign("sha256", data, { key, dsaEncoding: "ieee-p1363" }) : sign("sha256", data, key);
  return `${input}.${sig.toString("base64url")}`;
}

let clock = new Date("2031-05-01T12:00:00Z");
const nowSec = () => Math.floor(clock.getTime() / 1000);
const claims = (over: Record<string, unknown> = {}) => ({
  iss: ISS,
  aud: AUD,
  sub: "user_1",
  email: "dev@example.com",
  email_verified: true,
  iat: nowSec(),
  nbf: nowSec() - 5,
  exp: nowSec() + 300,
  ...over,
});
const rs = (over: Record<string, unknown> = {}, kid = "rsa1", key = rsa.privateKey) =>
  token({ alg: "RS256", typ: "JWT", kid }, claims(over), key);

function dashApp(env: Record<string, string>) {
  const ctx = testCtx({ now: () => clock }, env);
  const app = createApp({ ...ctx, limiter: new RateLimiter(1000), verifyJwt: createJwtVerifier(ctx) });
  return async (method: string, path: string, jwt: string, body?: unknown) => {
    const headers: Record<string, string> = { authorization: `Bearer ${jwt}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await app.handle(
      new Request(`http://localhost${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }),
    );
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
}

const env = {
  STAXA_JWT_JWKS_URL: `http://127.0.0.1:${jwksServer.port}/.well-known/jwks.json`,
  STAXA_JWT_ISSUER: ISS,
  STAXA_JWT_AUDIENCE: AUD,
};
const call = dashApp(env);

describe("valid tokens", () => {
  test("RS256: no account yet → 401; POST /register 201 then 200; then /account answers", async () => {
    const jwt = rs();
    expect((await call("GET", "/api/v1/account", jwt)).status).toBe(401);
    const first = await call("POST", "/api/v1/register", jwt, { email: "dev@example.com", name: "Dev Co" });
    expect(first.status).toBe(201);
    expect(first.json.data).toMatchObject({ email: "dev@example.com", name: "Dev Co", tenant_count: 0 });
    expect(first.json.data.id).toMatch(/^prv_/);
    const again = await call("POST", "/api/v1/register", jwt, { email: "DEV@example.com" });
    expect(again.status).toBe(200);
    expect(again.json.data.id).toBe(first.json.data.id);
    const acct = await call("GET", "/api/v1/account", jwt);
    expect(acct.status).toBe(200);
    expect(acct.json.data.id).toBe(first.json.data.id);
  });

  test("ES256 is accepted too", async () => {
    const jwt = token({ alg: "ES256", kid: "ec1" }, claims(), ec.privateKey);
    expect((await call("GET", "/api/v1/account", jwt)).status).toBe(200);
  });

  test("aud may be an array containing the audience", async () => {
    expect((await call("GET", "/api/v1/account", rs({ aud: ["other", AUD] }))).status).toBe(200);
  });

  test("register refuses an email that is not the token's", async () => {
    const r = await call("POST", "/api/v1/register", rs(), { email: "victim@example.com" });
    expect(r.status).toBe(400);
    expect(r.json.error.details.field).toBe("email");
  });
});

describe("OIDC binds to a provider by email only when email_verified is true", () => {
  test("a token with email_verified false does not act as the provider registered with that email, nor register it", async () => {
    const victim = dashApp(env);
    const owner = await victim("POST", "/api/v1/register", rs({ email: "owner@example.com" }), { email: "owner@example.com" });
    expect(owner.status).toBe(201);
    const unverified = rs({ email: "owner@example.com", email_verified: false, sub: "attacker" });
    const acct = await victim("GET", "/api/v1/account", unverified);
    expect(acct.status).toBe(401);
    expect(acct.json.error.message).toMatch(/not verified/);
    expect(acct.json.data).toBeUndefined();
    expect((await victim("POST", "/api/v1/register", unverified, { email: "owner@example.com" })).status).toBe(401);
    expect((await victim("GET", "/api/v1/account", rs({ email: "owner@example.com", sub: "owner" }))).json.data.id).toBe(
      owner.json.data.id,
    );
  });
});

describe("refused tokens → 401", () => {
  const hsWithPublicKey = () => {
    const input = `${b64({ alg: "HS256", typ: "JWT", kid: "rsa1" })}.${b64(claims())}`;
    const pem = rsa.publicKey.export({ type: "spki", format: "pem" }) as string;
    return `${input}.${createHmac("sha256", pem).update(input).digest("base64url")}`;
  };
  const tampered = () => {
    const [h, , s] = rs().split(".");
    return `${h}.${b64(claims({ email: "admin@example.com" }))}.${s}`;
  };
  const cases: Array<[string, () => string]> = [
    ["wrong issuer", () => rs({ iss: "https://evil.example" })],
    ["wrong audience", () => rs({ aud: "someone-else" })],
    ["expired", () => rs({ exp: nowSec() - 120 })],
    ["no expiry", () => rs({ exp: undefined })],
    ["not yet valid", () => rs({ nbf: nowSec() + 600 })],
    ["tampered payload", tampered],
    ["alg none", () => token({ alg: "none", kid: "rsa1" }, claims(), null)],
    ["HS256 signed with the RSA public key", hsWithPublicKey],
    ["unknown kid", () => rs({}, "nope")],
    ["signed by a key the issuer does not publish", () => rs({}, "rsa1", rogue.privateKey)],
    ["RS256 header naming the EC key", () => rs({}, "ec1")],
    ["no kid", () => token({ alg: "RS256" }, claims(), rsa.privateKey)],
    ["no email claim", () => rs({ email: undefined })],
    ["email_verified false", () => rs({ email_verified: false })],
    ["email_verified absent", () => rs({ email_verified: undefined })],
    ['email_verified "true" (a string, not the boolean)', () => rs({ email_verified: "true" })],
    ["garbage", () => "a.b.c"],
  ];
  for (const [name, make] of cases) {
    test(name, async () => {
      const r = await call("GET", "/api/v1/account", make());
      expect(r.status).toBe(401);
      expect(r.json.error.code).toBe("unauthorized");
    });
  }

  test("without a configured issuer, OIDC tokens are refused (fail closed)", async () => {
    const noIss = dashApp({ STAXA_JWT_JWKS_URL: env.STAXA_JWT_JWKS_URL });
    expect((await noIss("GET", "/api/v1/account", rs())).status).toBe(401);
  });

  test("without OIDC configured, RS256 tokens are refused", async () => {
    const none = dashApp({});
    expect((await none("GET", "/api/v1/account", rs())).status).toBe(401);
  });
});

describe("a token that waits for the JWKS", () => {
  // The first OIDC request of a process fetches the JWKS: the auth transform defers and the route runs again.
  const fresh = () => {
    const ctx = testCtx({ now: () => clock }, env);
    const limiter = new RateLimiter(1);
    const app = createApp({ ...ctx, limiter, verifyJwt: createJwtVerifier(ctx) });
    const send = async (method: string, jwt: string, body?: unknown) => {
      const headers: Record<string, string> = { authorization: `Bearer ${jwt}`, "x-request-id": "req_given_12345" };
      if (body !== undefined) headers["content-type"] = "application/json";
      const res = await app.handle(
        new Request("http://localhost/api/v1/account", {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
      return { status: res.status, headers: res.headers, json: await res.json() };
    };
    return { ctx, limiter, send };
  };

  test("a body route keeps its parsed body, headers and envelope", async () => {
    const { ctx, send } = fresh();
    const { provider } = ensureProvider(ctx.db, { email: "dev@example.com", name: null });
    const r = await send("PATCH", rs(), { name: "Waited Co" });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      data: expect.objectContaining({ id: provider.id, name: "Waited Co" }),
      meta: { request_id: "req_given_12345" },
    });
    expect(r.headers.get("x-request-id")).toBe("req_given_12345");
    expect(r.headers.get("x-ratelimit-limit")).toMatch(/^\d+$/);
    const other = fresh();
    ensureProvider(other.ctx.db, { email: "dev@example.com", name: null });
    const bad = await other.send("PATCH", rs(), { name: 42 });
    expect([bad.status, bad.json.error.details.field]).toEqual([400, "name"]);
  });

  test("a refused token is a 401 counted against the failed-authentication limit", async () => {
    const { send } = fresh();
    const r = await send("GET", rs({}, "rsa1", rogue.privateKey));
    expect([r.status, r.json.error.code, r.json.error.details.request_id]).toEqual([401, "unauthorized", "req_given_12345"]);
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await send("GET", rs({}, "rsa1", rogue.privateKey))).status);
    expect(statuses.slice(0, 29).every((s) => s === 401)).toBe(true);
    expect(statuses[29]).toBe(429);
  });
});

describe("JWKS cache", () => {
  test("unknown kids refetch at most once a minute; a rotated key is picked up", async () => {
    const fresh = dashApp(env);
    const base = fetches;
    expect((await fresh("POST", "/api/v1/register", rs(), { email: "dev@example.com" })).status).toBe(201);
    expect(fetches).toBe(base + 1);
    expect((await fresh("GET", "/api/v1/account", rs())).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await fresh("GET", "/api/v1/account", rs({}, `nope${i}`))).status).toBe(401);
    expect(fetches).toBe(base + 1);

    jwks.keys.push(jwk(later.publicKey, "rsa2", "RS256"));
    expect((await fresh("GET", "/api/v1/account", rs({}, "rsa2", later.privateKey))).status).toBe(401);
    clock = new Date(clock.getTime() + 61_000);
    expect((await fresh("GET", "/api/v1/account", rs({}, "rsa2", later.privateKey))).status).toBe(200);
    expect(fetches).toBe(base + 2);
  });
});

describe("an issuer that cannot be reached", () => {
  test("a token whose keys cannot be fetched is a 502 naming the JWKS, not a 401 or a 500; API keys are not held up", async () => {
    const dead = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("down", { status: 503 }) });
    const down = dashApp({ ...env, STAXA_JWT_JWKS_URL: `http://127.0.0.1:${dead.port}/jwks.json` });
    const r = await down("GET", "/api/v1/account", rs());
    dead.stop(true);
    expect(r.status).toBe(502);
    expect(r.json.error).toMatchObject({ code: "upstream_error", details: { system: "jwks" } });
    expect(r.json.error.message).toContain("could not fetch the JWKS");
    // an API key never waits for the issuer
    expect((await down("GET", "/api/v1/account", "sk_live_nope")).status).toBe(401);
  });
});
