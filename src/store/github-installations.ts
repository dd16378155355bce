// The GitHub App installation linked to a provider (one per provider, both modes), and the push-webhook lookup.
import { named, type Db } from "./db.ts";
import { NotFound } from "../lib/errors.ts";
import type { TenantRow } from "./tenants.ts";
import type { ServiceRow } from "./services.ts";

export interface InstallationRow {
  provider_id: string;
  installation_id: number;
  account: string;
  status: string;
  created_at: string;
}

export function find(db: Db, providerId: string): InstallationRow | undefined {
  return (
    db.query<InstallationRow, [string]>("SELECT * FROM github_installations WHERE provider_id = ?").get(providerId) ?? undefined
  );
}

export function get(db: Db, providerId: string): InstallationRow {
  const row = find(db, providerId);
  if (!row) throw new NotFound("GitHub installation");
  return row;
}

/** The provider holding an installation id, if any (an installation links to one provider only). */
export function findByInstallationId(db: Db, installationId: number): InstallationRow | undefined {
  return (
    db.query<InstallationRow, [number]>("SELECT * FROM github_installations WHERE installation_id = ?").get(installationId) ??
    undefined
  );
}

/** Inserts or replaces the provider's link (registering again switches installations). */
export function upsert(db: Db, row: InstallationRow): void {
  db.query(
    `INSERT INTO github_installations (provider_id, installation_id, account, status, created_at)
            VALUES ($provider_id, $installation_id, $account, $status, $created_at)
            ON CONFLICT(provider_id) DO UPDATE SET installation_id = excluded.installation_id, account = excluded.account,
              status = excluded.status, created_at = excluded.created_at`,
  ).run(named(row));
}

export function remove(db: Db, providerId: string): boolean {
  return db.query("DELETE FROM github_installations WHERE provider_id = ?").run(providerId).changes > 0;
}

/** Git-sourced services (with their tenant) of the providers linked to `installationId`: push-webhook candidates. */
export function gitServicesOf(db: Db, installationId: number): Array<{ tenant: TenantRow; service: ServiceRow }> {
  const ids = db
    .query<{ tenant_id: string; service_id: string }, [number]>(
      `SELECT t.id AS tenant_id, s.id AS service_id FROM services s
       JOIN tenants t ON t.id = s.tenant_id
       JOIN github_installations g ON g.provider_id = t.provider_id
      WHERE g.installation_id = ? AND s.source_type = 'github' AND s.repo_url IS NOT NULL AND t.status != 'deleting'
      ORDER BY t.created_at, s.priority, s.name`,
    )
    .all(installationId);
  const tenant = db.query<TenantRow, [string]>("SELECT * FROM tenants WHERE id = ?");
  const service = db.query<ServiceRow, [string]>("SELECT * FROM services WHERE id = ?");
  return ids.map((r) => ({ tenant: tenant.get(r.tenant_id)!, service: service.get(r.service_id)! }));
}
