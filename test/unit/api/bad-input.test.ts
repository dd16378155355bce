// Hostile and malformed input on the foundation's routes: always a clear 4xx, never a 500, nothing written.
import { describe, expect, test } from "bun:test";
import { testApp } from "../../support/ctx.ts";
import { createKey } from "../../../src/core/identity/keys.ts";

const ROUTES_WITH_BODY: Array<[string, string]> = [
  ["POST", "/api/v1/api-keys"],
  ["PATCH", "/api/v1/account"],
  ["POST", "/api/v1/auth/login"],
  ["POST", "/api/v1/auth/setup"],
];

const keyCount = (t: ReturnType<typeof testApp>) =>
  (t.ctx.db.query("SELECT COUNT(*) AS n FROM api_keys").get() as { n: number }).n;

describe("bodies", () => {
  const BODIES: Array<[string, string]> = [
    ["empty", ""],
    ["array", "[]"],
    ["null", "null"],
    ["number", "42"],
    ["string", '"name"'],
    ["malformed", '{"name": '],
    ["wrong types", '{"name": 12, "scopes": "*", "mode": true, "expires_at": 5, "email": 1, "password": []}'],
    ["nested", '{"name": {"$gt": ""}}'],
  ];
  for (const [method, path] of ROUTES_WITH_BODY) {
    for (const [label, body] of BODIES) {
      test(`${method} ${path} with ${label} body → 400`, async () => {
        const t = testApp();
        const before = keyCount(t);
        const r = await t.call(method, path, body);
        expect(r.status).toBe(400);
        expect(r.json.error.code).toBe("validation_error");
        expect(typeof r.json.error.details.field).toBe("string");
        expect(keyCount(t)).toBe(before);
      });
    }
  }

  test("a 1 MB name → 413 or 400, nothing written", async () => {
    const t = testApp();
    const body = JSON.stringify({ name: "n".repeat(1024 * 1024) });
    const r = await t.call("POST", "/api/v1/api-keys", body, { "content-length": String(body.length) });
    expect([400, 413]).toContain(r.status);
    const r2 = await t.call("POST", "/api/v1/api-keys", { name: "n".repeat(200_000) });
    expect(r2.status).toBe(400);
    expect(r2.json.error.details.field).toBe("name");
    const r3 = await t.call("PATCH", "/api/v1/account", { name: "n".repeat(200_000) });
    expect(r3.status).toBe(400);
    expect(keyCount(t)).toBe(1);
  });

  test("blank and control-character names are 400", async () => {
    const t = testApp();
    for (const name of ["", "   "]) expect((await t.call("POST", "/api/v1/api-keys", { name })).status).toBe(400);
    for (const name of ["", "  ", "a\u0000b", "line\nbreak"])
      expect((await t.call("PATCH", "/api/v1/account", { name })).status).toBe(400);
  });

  test("invalid mode, scope and expiry name their field", async () => {
    const t = testApp();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: "x", mode: "prod" }, "mode"],
      [{ name: "x", mode: "" }, "mode"],
      [{ name: "x", scopes: ["admin"] }, "scopes"],
      [{ name: "x", scopes: ["tenants:read", 7] }, "scopes[1]"],
      [{ name: "x", expires_at: "2000-01-01T00:00:00Z" }, "expires_at"],
      [{ name: "x", expires_at: "next week" }, "expires_at"],
      [{ name: "x", expires_at: "2099-02-30T00:00:00Z'; DROP TABLE api_keys;--" }, "expires_at"],
    ];
    for (const [body, field] of cases) {
      const r = await t.call("POST", "/api/v1/api-keys", body);
      expect(r.status).toBe(400);
      expect(r.json.error.details.field).toBe(field);
    }
    expect(keyCount(t)).toBe(1);
  });

  test("SQL- and shell-looking strings are stored as plain text or refused, never executed", async () => {
    const t = testApp();
    const nasty = ["x'); DROP TABLE api_keys;--", "$(touch /tmp/staxa-pwned)", "`id`", "a; rm -rf /", "' OR '1'='1"];
    for (const name of nasty) {
      const r = await t.call("POST", "/api/v1/api-keys", { name });
      expect(r.status).toBe(201);
      expect(r.json.data.name).toBe(name);
    }
    expect((await t.call("PATCH", "/api/v1/account", { name: nasty[0] })).json.data.name).toBe(nasty[0]);
    expect(keyCount(t)).toBe(1 + nasty.length);
    for (const id of ["key_x' OR '1'='1", "../../etc/passwd", "$(id)"]) {
      expect((await t.call("DELETE", `/api/v1/api-keys/${encodeURIComponent(id)}`)).status).toBe(404);
      expect((await t.call("GET", `/api/v1/templates/${encodeURIComponent(id)}`)).status).toBe(404);
    }
    expect(keyCount(t)).toBe(1 + nasty.length);
    expect(await Bun.file("/tmp/staxa-pwned").exists()).toBe(false);
    const login = await t.call("POST", "/api/v1/auth/login", { email: "' OR 1=1 --", password: "x' OR '1'='1" });
    expect(login.status).toBe(401);
  });
});

describe("Authorization header", () => {
  const VALUES = [
    "",
    "Bearer",
    "Bearer ",
    "Basic x",
    "Basic b3duZXI6cGFzcw==",
    "Bearer sk_live_",
    "Bearer sk_test_",
    "bearer sk_live_x",
    "Bearer a.b.c",
    "Bearer eyJ.eyJ.",
    "Token abc",
    "Bearer sk_live_' OR '1'='1",
    "Bearer  two  spaces",
  ];
  for (const value of VALUES) {
    test(`${JSON.stringify(value)} → 401`, async () => {
      const t = testApp();
      const r = await t.call("GET", "/api/v1/account", undefined, { authorization: value });
      expect(r.status).toBe(401);
      expect(r.json.error.code).toBe("unauthorized");
    });
  }

  test("a key of the other mode sees none of this mode's objects", async () => {
    const t = testApp();
    const liveKeyId = (await t.call("GET", "/api/v1/api-keys")).json.data[0].id;
    const testKey = createKey(t.ctx.db, {
      providerId: t.provider.id,
      name: "t",
      mode: "test",
      scopes: ["*"],
      expiresAt: null,
    }).raw;
    const auth = { authorization: `Bearer ${testKey}` };
    expect((await t.call("DELETE", `/api/v1/api-keys/${liveKeyId}`, undefined, auth)).status).toBe(404);
    const list = await t.call("GET", "/api/v1/api-keys", undefined, auth);
    expect(list.json.data.map((k: { id: string }) => k.id)).not.toContain(liveKeyId);
    expect((await t.call("POST", "/api/v1/api-keys", { name: "escalate", mode: "live" }, auth)).status).toBe(400);
  });

  test("bad credentials are checked before the body: a wrong key with a bad body is 401", async () => {
    const t = testApp();
    const r = await t.call("POST", "/api/v1/api-keys", "[]", { authorization: "Bearer sk_live_nope" });
    expect(r.status).toBe(401);
  });
});
