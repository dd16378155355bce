// Custom domains of tenants: one row per claim of a name by a tenant, with DNS and TLS state. Several tenants may
// claim a name; at most one row per name is verified (a partial unique index, migration 100).
import { named, type Db } from "./db.ts";
import { NotFound } from "../lib/errors.ts";

export type SslStatus = "pending" | "provisioning" | "active" | "failed";
export type DnsStatus = "ok" | "misconfigured";

export interface DomainRow {
  id: string;
  tenant_id: string;
  /** The service it routes to; null = the tenant's primary service. */
  service_id: string | null;
  domain: string;
  is_primary: number;
  verified: number;
  /** The value the TXT record `_staxa-challenge.<domain>` must hold. */
  verification_token: string;
  dns_status: DnsStatus | null;
  ssl_status: SslStatus;
  ssl_issuer: string | null;
  ssl_expires_at: string | null;
  last_checked_at: string | null;
  created_at: string;
  updated_at: string;
}

/** A domain of the tenant, or undefined (the tenant was already checked against the caller). */
export function find(db: Db, tenantId: string, id: string): DomainRow | undefined {
  return (
    db.query<DomainRow, [string, string]>("SELECT * FROM domains WHERE id = ? AND tenant_id = ?").get(id, tenantId) ?? undefined
  );
}

export function get(db: Db, tenantId: string, id: string): DomainRow {
  const row = find(db, tenantId, id);
  if (!row) throw new NotFound("Domain");
  return row;
}

/** The verified row of a name, across every tenant and provider (its owner), or undefined. */
export function findVerifiedByName(db: Db, domain: string): DomainRow | undefined {
  return db.query<DomainRow, [string]>("SELECT * FROM domains WHERE domain = ? AND verified = 1").get(domain) ?? undefined;
}

/** The tenant's own claim of a name, verified or not. */
export function findClaim(db: Db, tenantId: string, domain: string): DomainRow | undefined {
  return (
    db.query<DomainRow, [string, string]>("SELECT * FROM domains WHERE tenant_id = ? AND domain = ?").get(tenantId, domain) ??
    undefined
  );
}

/** Claims of the same name by other tenants: how many, and whether one of them is verified. */
export function otherClaims(db: Db, domain: string, tenantId: string): { count: number; verified: boolean } {
  const r = db
    .query<{ n: number; v: number | null }, [string, string]>(
      "SELECT COUNT(*) AS n, MAX(verified) AS v FROM domains WHERE domain = ? AND tenant_id != ?",
    )
    .get(domain, tenantId);
  return { count: r?.n ?? 0, verified: (r?.v ?? 0) === 1 };
}

/** True when an error is SQLite refusing a second claim (per tenant) or a second verified row (per name). */
export function isClaimConflict(e: unknown): boolean {
  return String((e as Error)?.message).includes("UNIQUE constraint failed: domains.");
}

/** By id regardless of tenant: for the scheduler and background checks only, never for a request. */
export function findById(db: Db, id: string): DomainRow | undefined {
  return db.query<DomainRow, [string]>("SELECT * FROM domains WHERE id = ?").get(id) ?? undefined;
}

export function list(db: Db, tenantId: string): DomainRow[] {
  return db.query<DomainRow, [string]>("SELECT * FROM domains WHERE tenant_id = ? ORDER BY created_at, rowid").all(tenantId);
}

/** Verified domains of a tenant: the hosts its routes answer on besides its own. */
export function listVerified(db: Db, tenantId: string): DomainRow[] {
  return db
    .query<DomainRow, [string]>("SELECT * FROM domains WHERE tenant_id = ? AND verified = 1 ORDER BY created_at, rowid")
    .all(tenantId);
}

/** The verified primary domain of each of `tenantIds` that has one (a page of the tenant list, in one query). */
export function primaryVerified(db: Db, tenantIds: string[]): DomainRow[] {
  if (!tenantIds.length) return [];
  return db
    .query<DomainRow, string[]>(
      `SELECT * FROM domains WHERE verified = 1 AND is_primary = 1 AND tenant_id IN (${tenantIds.map(() => "?").join(",")})
       ORDER BY created_at DESC, rowid DESC`, // the caller keeps the last per tenant: the first made, as primaryDomainUrl does
    )
    .all(...tenantIds);
}

/** Every domain across tenants (the scheduler's checks). */
export function listAll(db: Db): DomainRow[] {
  return db.query<DomainRow, []>("SELECT * FROM domains ORDER BY created_at, rowid").all();
}

export function insert(db: Db, row: DomainRow): void {
  db.query(
    `INSERT INTO domains (id, tenant_id, service_id, domain, is_primary, verified, verification_token, dns_status, ssl_status,
              ssl_issuer, ssl_expires_at, last_checked_at, created_at, updated_at)
            VALUES ($id, $tenant_id, $service_id, $domain, $is_primary, $verified, $verification_token, $dns_status, $ssl_status,
              $ssl_issuer, $ssl_expires_at, $last_checked_at, $created_at, $updated_at)`,
  ).run(named(row));
}

const UPDATABLE = new Set([
  "is_primary",
  "verified",
  "dns_status",
  "ssl_status",
  "ssl_issuer",
  "ssl_expires_at",
  "last_checked_at",
  "updated_at",
]);
type Mutable = Partial<
  Pick<DomainRow, "is_primary" | "verified" | "dns_status" | "ssl_status" | "ssl_issuer" | "ssl_expires_at" | "last_checked_at">
>;

/** Updates the given columns (only those from a fixed list). */
export function update(db: Db, id: string, fields: Mutable & { updated_at: string }): void {
  const cols = Object.keys(fields).filter((k) => UPDATABLE.has(k));
  const args: Record<string, unknown> = { id };
  for (const c of cols) args[c] = (fields as Record<string, unknown>)[c] ?? null;
  db.query(`UPDATE domains SET ${cols.map((c) => `${c} = $${c}`).join(", ")} WHERE id = $id`).run(args as any);
}

/** Clears the primary flag of the tenant's other domains (one primary per tenant). */
export function clearPrimary(db: Db, tenantId: string, exceptId: string, now: string): void {
  db.query("UPDATE domains SET is_primary = 0, updated_at = ? WHERE tenant_id = ? AND id != ? AND is_primary = 1").run(
    now,
    tenantId,
    exceptId,
  );
}

export function remove(db: Db, id: string): void {
  db.query("DELETE FROM domains WHERE id = ?").run(id);
}
