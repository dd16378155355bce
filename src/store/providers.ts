// Providers: the accounts that own keys, tenants, registries, webhooks.
import { named, type Db } from "./db.ts";
import { NotFound } from "../lib/errors.ts";

export interface ProviderRow {
  id: string;
  email: string;
  name: string | null;
  created_at: string;
  updated_at: string;
}

export function find(db: Db, id: string): ProviderRow | undefined {
  return db.query<ProviderRow, [string]>("SELECT * FROM providers WHERE id = ?").get(id) ?? undefined;
}

export function get(db: Db, id: string): ProviderRow {
  const row = find(db, id);
  if (!row) throw new NotFound("Provider");
  return row;
}

export function findByEmail(db: Db, email: string): ProviderRow | undefined {
  return db.query<ProviderRow, [string]>("SELECT * FROM providers WHERE email = ?").get(email) ?? undefined;
}

export function insert(db: Db, row: ProviderRow): void {
  db.query(
    "INSERT INTO providers (id, email, name, created_at, updated_at) VALUES ($id, $email, $name, $created_at, $updated_at)",
  ).run(named(row));
}

export function update(db: Db, id: string, fields: { name?: string | null; updated_at: string }): void {
  db.query("UPDATE providers SET name = COALESCE($name, name), updated_at = $updated_at WHERE id = $id").run({
    id,
    name: fields.name ?? null,
    updated_at: fields.updated_at,
  });
}

/** Tenants of a provider in one mode (the account's tenant_count). */
export function tenantCount(db: Db, id: string, mode: "live" | "test"): number {
  return (
    db
      .query<{ n: number }, [string, string]>(
        "SELECT COALESCE(SUM(n), 0) AS n FROM tenant_counts WHERE provider_id = ? AND mode = ?",
      )
      .get(id, mode)?.n ?? 0
  );
}

/** The provider plus its tenant count in `mode`, in one statement (GET /account is a hot path). */
export function getWithTenantCount(db: Db, id: string, mode: "live" | "test"): ProviderRow & { tenant_count: number } {
  const row = db
    .query<ProviderRow & { tenant_count: number }, [string, string]>(
      // tenant_counts (kept by triggers): a few rows, where counting the provider's tenants grows with them.
      "SELECT p.*, (SELECT COALESCE(SUM(n), 0) FROM tenant_counts c WHERE c.provider_id = p.id AND c.mode = ?) AS tenant_count FROM providers p WHERE p.id = ?",
    )
    .get(mode, id);
  if (!row) throw new NotFound("Provider");
  return row;
}
