// Requests cost the same at 10,000 tenant rows as at 1 (issue 18): counts kept by triggers instead of COUNT(*) per
// request, and every hot query an index search. SQLite's own plan is the proof; timings here would only be noise.
import { describe, expect, test } from "bun:test";
import { openDb, migrate } from "../../../src/store/db.ts";
import * as tenants from "../../../src/store/tenants.ts";
import * as providers from "../../../src/store/providers.ts";
import { tenantCountsByStatus } from "../../../src/store/metrics.ts";

function store() {
  const db = openDb(":memory:");
  migrate(db);
  for (const p of ["prv_a", "prv_b"]) db.query("INSERT INTO providers VALUES (?, ?, NULL, 't', 't')").run(p, `${p}@x.y`);
  return db;
}
const insert = (db: any) => (id: string, provider: string, mode: string, status: string) =>
  db
    .query("INSERT INTO tenants (id, provider_id, mode, name, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 't')")
    .run(id, provider, mode, id, status, id);
const counted = (db: any) =>
  db.query("SELECT provider_id, mode, status, COUNT(*) AS n FROM tenants GROUP BY 1, 2, 3 ORDER BY 1, 2, 3").all();
const kept = (db: any) => db.query("SELECT provider_id, mode, status, n FROM tenant_counts WHERE n > 0 ORDER BY 1, 2, 3").all();

describe("tenant counts kept by triggers", () => {
  test("equal COUNT(*) through inserts, status changes, deletes and a provider's cascade", () => {
    const db = store();
    const add = insert(db);
    const statuses = ["provisioning", "deploying", "ready", "failed", "deleting"];
    for (let i = 0; i < 60; i++)
      add(`t${String(i).padStart(3, "0")}`, i % 3 ? "prv_a" : "prv_b", i % 4 ? "live" : "test", statuses[i % 5]!);
    for (let i = 0; i < 60; i += 7)
      db.query("UPDATE tenants SET status = ?, updated_at = 'u' WHERE id = ?").run(
        statuses[(i + 2) % 5]!,
        `t${String(i).padStart(3, "0")}`,
      );
    db.query("UPDATE tenants SET display_name = 'x' WHERE id = 't001'").run(); // no status change: no count change
    for (let i = 0; i < 60; i += 5) db.query("DELETE FROM tenants WHERE id = ?").run(`t${String(i).padStart(3, "0")}`);
    expect(kept(db)).toEqual(counted(db));
    db.query("DELETE FROM providers WHERE id = 'prv_b'").run();
    expect(kept(db)).toEqual(counted(db));
  });

  test("/account, the tenant limit, list totals and /metrics read them", () => {
    const db = store();
    const add = insert(db);
    ["ready", "ready", "failed", "deleting"].forEach((s, i) => add(`a${i}`, "prv_a", "live", s));
    add("b0", "prv_a", "test", "ready");
    const owner = { providerId: "prv_a", mode: "live" as const };
    expect(providers.getWithTenantCount(db, "prv_a", "live").tenant_count).toBe(4);
    expect(providers.tenantCount(db, "prv_a", "test")).toBe(1);
    expect(tenants.count(db, owner)).toBe(3); // deleting ones are on their way out
    const page = (q: Partial<tenants.ListQuery>) =>
      tenants.list(db, owner, { sort: "created_at", desc: true, limit: 2, offset: 0, ...q });
    expect([page({}).total, page({ status: "ready" }).total, page({ search: "a1" }).total]).toEqual([4, 2, 1]);
    expect(page({}).rows.map((r) => r.id)).toEqual(["a3", "a2"]);
    expect(tenantCountsByStatus(db).sort((x, y) => x.status.localeCompare(y.status) || x.mode.localeCompare(y.mode))).toEqual([
      { status: "deleting", mode: "live", count: 1 },
      { status: "failed", mode: "live", count: 1 },
      { status: "ready", mode: "live", count: 2 },
      { status: "ready", mode: "test", count: 1 },
    ]);
  });
});

/** SQLite's plan of `sql`, one line per step. */
const planOf = (db: any, sql: string) =>
  (db.query(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail);

describe("hot queries are index searches", () => {
  const db = store();
  test.each([
    [
      "GET /tenants (newest first)",
      "SELECT * FROM tenants WHERE provider_id = 'p' AND mode = 'live' ORDER BY created_at DESC, id LIMIT 20 OFFSET 0",
    ],
    [
      "GET /tenants?sort=name",
      "SELECT * FROM tenants WHERE provider_id = 'p' AND mode = 'live' ORDER BY name ASC, id LIMIT 20 OFFSET 0",
    ],
    [
      "GET /tenants?status=ready",
      "SELECT * FROM tenants WHERE provider_id = 'p' AND mode = 'live' AND status = 'ready' ORDER BY created_at DESC, id LIMIT 20 OFFSET 0",
    ],
    ["list total", "SELECT COALESCE(SUM(n), 0) AS n FROM tenant_counts WHERE provider_id = 'p' AND mode = 'live'"],
    ["GET /tenants/{id}", "SELECT * FROM tenants WHERE id = 'x' AND provider_id = 'p' AND mode = 'live'"],
    ["a tenant's services", "SELECT * FROM services WHERE tenant_id = 'x' ORDER BY priority, created_at, name"],
    ["a tenant's deployments", "SELECT id FROM deployments WHERE tenant_id = 'x' ORDER BY created_at DESC, rowid DESC LIMIT 5"],
    [
      "a tenant's network rules",
      "SELECT * FROM network_rules WHERE tenant_id = 'x' AND direction = 'inbound' AND status = 'active'",
    ],
    [
      "due network rules",
      "SELECT * FROM network_rules WHERE status = 'active' AND expires_at IS NOT NULL AND expires_at <= 'z' ORDER BY expires_at",
    ],
    ["a service's deployments (delete cascade)", "SELECT id FROM deployments WHERE service_id = 's'"],
    ["a service's domains (delete sets null)", "SELECT id FROM domains WHERE service_id = 's'"],
    ["a webhook's deliveries (delete cascade)", "SELECT id FROM webhook_deliveries WHERE webhook_id = 'w'"],
  ])("%s", (_what, sql) => {
    const plan = planOf(db, sql);
    expect(plan.filter((d) => /^SCAN /.test(d) && !/USING (COVERING )?INDEX/.test(d))).toEqual([]);
  });
});
