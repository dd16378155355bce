// The key cache of the auth hot path: deletion through the API is immediate, deletion by another process within KEY_RECHECK_MS.
import { describe, expect, test } from "bun:test";
import { testApp } from "../../support/ctx.ts";
import { authenticateKey, createKey, deleteKey, KEY_RECHECK_MS } from "../../../src/core/identity/keys.ts";
import { Unauthorized } from "../../../src/lib/errors.ts";

describe("key cache", () => {
  test("a key removed from the store behind the appliance's back stops within KEY_RECHECK_MS", async () => {
    const { call, ctx, provider } = testApp();
    const k = createKey(ctx.db, { providerId: provider.id, name: "cli", mode: "live", scopes: ["*"], expiresAt: null });
    const auth = { authorization: `Bearer ${k.raw}` };
    expect((await call("GET", "/api/v1/account", undefined, auth)).status).toBe(200);
    // What the CLI or a restore in another process would do: the row goes, this process is not told.
    ctx.db.query("DELETE FROM api_keys WHERE id = ?").run(k.row.id);
    await Bun.sleep(KEY_RECHECK_MS + 50);
    const after = await call("GET", "/api/v1/account", undefined, auth);
    expect(after.status).toBe(401);
    expect(after.json.error.code).toBe("unauthorized");
  });

  test("deleteKey forgets a cached key at once, even within KEY_RECHECK_MS", () => {
    const { ctx, provider } = testApp();
    const k = createKey(ctx.db, { providerId: provider.id, name: "x", mode: "live", scopes: ["tenants:read"], expiresAt: null });
    const p = authenticateKey(ctx, k.raw, new Date());
    expect(p).toMatchObject({ providerId: provider.id, mode: "live", scopes: ["tenants:read"], keyId: k.row.id });
    deleteKey(ctx, p, k.row.id);
    expect(() => authenticateKey(ctx, k.raw, new Date())).toThrow(Unauthorized);
  });

  test("a cached principal cannot be changed by the caller that received it", () => {
    const { ctx, provider } = testApp();
    const k = createKey(ctx.db, { providerId: provider.id, name: "x", mode: "live", scopes: ["tenants:read"], expiresAt: null });
    const p = authenticateKey(ctx, k.raw, new Date());
    expect(() => ((p as { mode: string }).mode = "test")).toThrow();
    expect(() => p.scopes.push("*")).toThrow();
    expect(authenticateKey(ctx, k.raw, new Date())).toMatchObject({ mode: "live", scopes: ["tenants:read"] });
  });

  test("caches are per context: a key of one store is unknown to another", () => {
    const a = testApp();
    const b = testApp();
    expect(authenticateKey(a.ctx, a.key, new Date()).providerId).toBe(a.provider.id);
    expect(() => authenticateKey(b.ctx, a.key, new Date())).toThrow(Unauthorized);
  });
});
