// API keys end to end in-process: create/list/delete, expiry, scopes, live/test separation, format, storage.
import { describe, expect, test } from "bun:test";
import { testApp } from "../../support/ctx.ts";
import { createKey, isWellFormedKey, hashKey, generateKey } from "../../../src/core/identity/keys.ts";

function clockedApp() {
  let now = new Date("2030-01-01T00:00:00Z");
  const t = testApp({ now: () => now });
  return { ...t, advance: (ms: number) => (now = new Date(now.getTime() + ms)), nowDate: () => now };
}

describe("create, list, delete", () => {
  test("POST returns the raw key once (201); list shows the prefix, never the key or hash", async () => {
    const { call } = testApp();
    const created = await call("POST", "/api/v1/api-keys", { name: "Production", mode: "live" });
    expect(created.status).toBe(201);
    const d = created.json.data;
    expect(Object.keys(d).sort()).toEqual(["created_at", "expires_at", "id", "key", "mode", "name", "prefix", "scopes"]);
    expect(d).toMatchObject({ name: "Production", mode: "live", scopes: ["*"], expires_at: null });
    expect(d.id).toMatch(/^key_[a-z0-9]{16}$/);
    expect(d.key.startsWith(d.prefix)).toBe(true);
    expect(d.prefix).toMatch(/^sk_live_[0-9A-Za-z]{4}$/);
    expect(d.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const list = await call("GET", "/api/v1/api-keys");
    expect(list.status).toBe(200);
    expect(list.json.data.map((k: any) => k.id)).toContain(d.id);
    expect(list.text).not.toContain(d.key);
    for (const k of list.json.data)
      expect(Object.keys(k).sort()).toEqual(["created_at", "expires_at", "id", "mode", "name", "prefix", "scopes"]);
  });

  test("the new key works; after DELETE (204) it stops working on the next request", async () => {
    const { call } = testApp();
    const { id, key } = (await call("POST", "/api/v1/api-keys", { name: "temp" })).json.data;
    const auth = { authorization: `Bearer ${key}` };
    expect((await call("GET", "/api/v1/account", undefined, auth)).status).toBe(200);
    const del = await call("DELETE", `/api/v1/api-keys/${id}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe("");
    const after = await call("GET", "/api/v1/account", undefined, auth);
    expect(after.status).toBe(401);
    expect((await call("DELETE", `/api/v1/api-keys/${id}`)).status).toBe(404);
  });

  test("a missing name is a 400 naming it", async () => {
    const { call } = testApp();
    const r = await call("POST", "/api/v1/api-keys", { mode: "live" });
    expect(r.status).toBe(400);
    expect(r.json.error.details.field).toBe("name");
  });

  test("another provider's key id answers 404 and stays alive", async () => {
    const a = testApp();
    const other = createKey(a.ctx.db, { providerId: a.provider.id, name: "x", mode: "live", scopes: ["*"], expiresAt: null });
    const { ensureProvider } = await import("../../../src/core/identity/accounts.ts");
    const b = ensureProvider(a.ctx.db, { email: "other@example.com", name: null }).provider;
    const bKey = createKey(a.ctx.db, { providerId: b.id, name: "b", mode: "live", scopes: ["*"], expiresAt: null });
    const r = await a.call("DELETE", `/api/v1/api-keys/${other.row.id}`, undefined, { authorization: `Bearer ${bKey.raw}` });
    expect(r.status).toBe(404);
    expect(
      (await a.call("GET", "/api/v1/api-keys", undefined, { authorization: `Bearer ${bKey.raw}` })).json.data.map(
        (k: any) => k.id,
      ),
    ).toEqual([bKey.row.id]);
    expect((await a.call("GET", "/api/v1/account", undefined, { authorization: `Bearer ${other.raw}` })).status).toBe(200);
  });
});

describe("expiry", () => {
  test("a key works until expires_at, then answers 401 like an unknown key", async () => {
    const { call, advance } = clockedApp();
    const r = await call("POST", "/api/v1/api-keys", { name: "short", expires_at: "2030-01-01T01:00:00Z" });
    expect(r.status).toBe(201);
    expect(r.json.data.expires_at).toBe("2030-01-01T01:00:00Z");
    const auth = { authorization: `Bearer ${r.json.data.key}` };
    expect((await call("GET", "/api/v1/account", undefined, auth)).status).toBe(200);
    advance(60 * 60 * 1000);
    const expired = await call("GET", "/api/v1/account", undefined, auth);
    expect(expired.status).toBe(401);
    const unknown = await call("GET", "/api/v1/account", undefined, { authorization: `Bearer ${generateKey("live")}` });
    expect(expired.json.error).toEqual({ ...unknown.json.error, details: { request_id: expired.json.error.details.request_id } });
  });

  test("expires_at in the past, or not ISO 8601, is a 400 naming it", async () => {
    const { call } = clockedApp();
    for (const bad of ["2029-12-31T23:59:59Z", "tomorrow", "2031-13-45T00:00:00Z", "1893456000", ""]) {
      const r = await call("POST", "/api/v1/api-keys", { name: "x", expires_at: bad });
      expect(r.status).toBe(400);
      expect(r.json.error.details.field).toBe("expires_at");
    }
  });
});

describe("scopes", () => {
  test("a key without the route's scope gets 403 insufficient_scope", async () => {
    const { call } = testApp();
    const ro = (await call("POST", "/api/v1/api-keys", { name: "ro", scopes: ["account:read"] })).json.data.key;
    const auth = { authorization: `Bearer ${ro}` };
    expect((await call("GET", "/api/v1/account", undefined, auth)).status).toBe(200);
    for (const [m, p, b] of [
      ["GET", "/api/v1/api-keys"],
      ["POST", "/api/v1/api-keys", { name: "y" }],
      ["DELETE", "/api/v1/api-keys/key_x"],
      ["PATCH", "/api/v1/account", { name: "n" }],
      ["GET", "/api/v1/templates"],
    ] as const) {
      const r = await call(m, p, b, auth);
      expect(r.status).toBe(403);
      expect(r.json.error.code).toBe("insufficient_scope");
    }
  });

  test("write implies read; a key cannot grant scopes it lacks", async () => {
    const { call } = testApp();
    const kw = (await call("POST", "/api/v1/api-keys", { name: "kw", scopes: ["keys:write"] })).json.data.key;
    const auth = { authorization: `Bearer ${kw}` };
    expect((await call("GET", "/api/v1/api-keys", undefined, auth)).status).toBe(200);
    const escalate = await call("POST", "/api/v1/api-keys", { name: "all" }, auth);
    expect(escalate.status).toBe(403);
    expect(escalate.json.error.code).toBe("insufficient_scope");
    expect((await call("POST", "/api/v1/api-keys", { name: "t", scopes: ["tenants:write"] }, auth)).status).toBe(403);
    const ok = await call("POST", "/api/v1/api-keys", { name: "kr", scopes: ["keys:read"] }, auth);
    expect(ok.status).toBe(201);
    expect(ok.json.data.scopes).toEqual(["keys:read"]);
  });

  test("unknown or empty scopes are a 400 naming scopes", async () => {
    const { call } = testApp();
    for (const scopes of [["tenants:destroy"], ["*", "root"], []]) {
      const r = await call("POST", "/api/v1/api-keys", { name: "x", scopes });
      expect(r.status).toBe(400);
      expect(r.json.error.details.field).toBe("scopes");
    }
  });
});

describe("live/test separation", () => {
  test("a live full-access key creates a test key (sk_test_), which a test key then sees and a live key does not", async () => {
    const { call, ctx } = testApp();
    const made = await call("POST", "/api/v1/api-keys", { name: "dev", mode: "test" });
    expect(made.status).toBe(201);
    expect(made.json.data.mode).toBe("test");
    expect(made.json.data.key).toMatch(/^sk_test_[0-9A-Za-z]{36}$/);
    expect(isWellFormedKey(made.json.data.key)).toBe(true);
    const tauth = { authorization: `Bearer ${made.json.data.key}` };
    const testList = await call("GET", "/api/v1/api-keys", undefined, tauth);
    expect(testList.json.data.map((k: any) => k.id)).toEqual([made.json.data.id]);
    const liveList = await call("GET", "/api/v1/api-keys");
    expect(liveList.json.data.some((k: any) => k.id === made.json.data.id)).toBe(false);
    expect(ctx.db.query("SELECT mode FROM api_keys WHERE id = ?").get(made.json.data.id)).toEqual({ mode: "test" });
  });

  test("a test key sees and deletes only test keys, and cannot mint live keys", async () => {
    const { call, ctx, provider } = testApp();
    const test1 = createKey(ctx.db, { providerId: provider.id, name: "test1", mode: "test", scopes: ["*"], expiresAt: null });
    const tauth = { authorization: `Bearer ${test1.raw}` };
    const list = await call("GET", "/api/v1/api-keys", undefined, tauth);
    expect(list.json.data.map((k: any) => k.mode)).toEqual(["test"]);
    const made = await call("POST", "/api/v1/api-keys", { name: "t2" }, tauth);
    expect(made.status).toBe(201);
    expect(made.json.data.mode).toBe("test");
    expect(made.json.data.key.startsWith("sk_test_")).toBe(true);
    const live = await call("POST", "/api/v1/api-keys", { name: "l", mode: "live" }, tauth);
    expect(live.status).toBe(400);
    expect(live.json.error.details.field).toBe("mode");

    const liveList = await call("GET", "/api/v1/api-keys");
    expect(liveList.json.data.every((k: any) => k.mode === "live")).toBe(true);
    const liveId = liveList.json.data[0].id;
    expect((await call("DELETE", `/api/v1/api-keys/${liveId}`, undefined, tauth)).status).toBe(404);
    expect((await call("DELETE", `/api/v1/api-keys/${test1.row.id}`)).status).toBe(404);
    expect((await call("GET", "/api/v1/account")).status).toBe(200);
  });
});

describe("key format and storage", () => {
  test("sk_<mode>_ + 30 random + 6 checksum; a flipped character fails offline", () => {
    for (const mode of ["live", "test"] as const) {
      const k = generateKey(mode);
      expect(k).toMatch(new RegExp(`^sk_${mode}_[0-9A-Za-z]{36}$`));
      expect(isWellFormedKey(k)).toBe(true);
      const flipped = k.slice(0, 10) + (k[10] === "a" ? "b" : "a") + k.slice(11);
      expect(isWellFormedKey(flipped)).toBe(false);
    }
    expect(new Set(Array.from({ length: 200 }, () => generateKey("live"))).size).toBe(200);
  });

  test("only the SHA-256 hash is stored, never the raw key", async () => {
    const { call, ctx } = testApp();
    const { key, id } = (await call("POST", "/api/v1/api-keys", { name: "stored" })).json.data;
    const rows = ctx.db.query("SELECT * FROM api_keys").all() as Record<string, unknown>[];
    expect(JSON.stringify(rows)).not.toContain(key);
    expect(JSON.stringify(rows)).not.toContain(key.slice(12));
    const row = rows.find((r) => r.id === id)!;
    expect(row.hash).toBe(hashKey(key));
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.prefix).toBe(key.slice(0, 12));
  });
});
