// GET/PATCH /account: the reference's shape, tenant_count per mode, and scope checks.
import { describe, expect, test } from "bun:test";
import { testApp } from "../../support/ctx.ts";
import { createKey } from "../../../src/core/identity/keys.ts";

function addTenant(db: any, providerId: string, mode: "live" | "test", name: string) {
  db.query(
    "INSERT INTO tenants (id, provider_id, mode, name, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'ready', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
  ).run(`ten_${name}`, providerId, mode, name);
}

describe("account", () => {
  test("GET shows exactly id, email, name, tenant_count, created_at", async () => {
    const { call, provider } = testApp();
    const r = await call("GET", "/api/v1/account");
    expect(r.status).toBe(200);
    expect(r.json.data).toEqual({
      id: provider.id,
      email: "owner@example.com",
      name: "Owner",
      tenant_count: 0,
      created_at: provider.created_at,
    });
  });

  test("tenant_count counts the caller's mode only, and only its own tenants", async () => {
    const { call, ctx, provider } = testApp();
    addTenant(ctx.db, provider.id, "live", "a1");
    addTenant(ctx.db, provider.id, "live", "a2");
    addTenant(ctx.db, provider.id, "test", "a3");
    ctx.db
      .query(
        "INSERT INTO providers (id, email, name, created_at, updated_at) VALUES ('prv_other', 'o@example.com', NULL, 'x', 'x')",
      )
      .run();
    addTenant(ctx.db, "prv_other", "live", "b1");
    expect((await call("GET", "/api/v1/account")).json.data.tenant_count).toBe(2);
    const testKey = createKey(ctx.db, { providerId: provider.id, name: "t", mode: "test", scopes: ["*"], expiresAt: null }).raw;
    expect((await call("GET", "/api/v1/account", undefined, { authorization: `Bearer ${testKey}` })).json.data.tenant_count).toBe(
      1,
    );
  });

  test("PATCH renames (trimmed) and returns the account; email cannot be changed this way", async () => {
    const { call } = testApp();
    // email is not a field of PATCH /account: refused by name (issue 19), nothing changed.
    const refused = await call("PATCH", "/api/v1/account", { name: "Other", email: "evil@example.com" });
    expect([refused.status, refused.json.error.details.field]).toEqual([400, "email"]);
    const r = await call("PATCH", "/api/v1/account", { name: "  Acme Corporation " });
    expect(r.status).toBe(200);
    expect(r.json.data.name).toBe("Acme Corporation");
    expect(r.json.data.email).toBe("owner@example.com");
    expect((await call("GET", "/api/v1/account")).json.data.name).toBe("Acme Corporation");
  });

  test("scopes: account:read may read, not write; no credentials → 401", async () => {
    const { call, ctx, provider } = testApp();
    const ro = createKey(ctx.db, {
      providerId: provider.id,
      name: "ro",
      mode: "live",
      scopes: ["account:read"],
      expiresAt: null,
    }).raw;
    const auth = { authorization: `Bearer ${ro}` };
    expect((await call("GET", "/api/v1/account", undefined, auth)).status).toBe(200);
    const w = await call("PATCH", "/api/v1/account", { name: "x" }, auth);
    expect(w.status).toBe(403);
    expect(w.json.error.details.required_scope).toBe("account:write");
    expect((await call("GET", "/api/v1/account", undefined, { authorization: "" })).status).toBe(401);
  });
});
