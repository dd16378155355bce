// Preview deployments: a tenant's preview settings, and the preview tenants of its pull requests.
import { named, type Db } from "./db.ts";
import type { Owner } from "./tenants.ts";

export interface PreviewSettingsRow {
  tenant_id: string;
  enabled: number;
  allow_forks: number;
  ttl_hours: number;
  /** Sealed JSON {KEY: value | null}. */
  env_overrides_enc: string | null;
  updated_at: string;
}

export interface PreviewRow {
  /** The preview tenant. */
  tenant_id: string;
  /** The tenant whose pull requests these are; null once it is gone. */
  base_tenant_id: string | null;
  /** owner/repo of the pull request's base. */
  repo: string;
  pr_number: number;
  head_repo: string;
  head_ref: string;
  head_sha: string;
  comment_id: number | null;
  created_at: string;
  updated_at: string;
}

/** A preview with what the TTL sweep needs: its own status, its base's ttl_hours and status (null once gone). */
export type PreviewWithTtl = PreviewRow & { status: string; ttl_hours: number | null; base_status: string | null };

export function findSettings(db: Db, tenantId: string): PreviewSettingsRow | undefined {
  return db.query<PreviewSettingsRow, [string]>("SELECT * FROM preview_settings WHERE tenant_id = ?").get(tenantId) ?? undefined;
}

export function upsertSettings(db: Db, row: PreviewSettingsRow): void {
  db.query(
    `INSERT INTO preview_settings (tenant_id, enabled, allow_forks, ttl_hours, env_overrides_enc, updated_at)
            VALUES ($tenant_id, $enabled, $allow_forks, $ttl_hours, $env_overrides_enc, $updated_at)
            ON CONFLICT(tenant_id) DO UPDATE SET enabled = excluded.enabled, allow_forks = excluded.allow_forks,
              ttl_hours = excluded.ttl_hours, env_overrides_enc = excluded.env_overrides_enc, updated_at = excluded.updated_at`,
  ).run(named(row));
}

/** The preview row of a preview tenant, or undefined for any other tenant. */
export function find(db: Db, tenantId: string): PreviewRow | undefined {
  return db.query<PreviewRow, [string]>("SELECT * FROM previews WHERE tenant_id = ?").get(tenantId) ?? undefined;
}

/** The preview rows of those of `tenantIds` that are previews (a page of the tenant list, in one query). */
export function findMany(db: Db, tenantIds: string[]): PreviewRow[] {
  if (!tenantIds.length) return [];
  return db
    .query<PreviewRow, string[]>(`SELECT * FROM previews WHERE tenant_id IN (${tenantIds.map(() => "?").join(",")})`)
    .all(...tenantIds);
}

export function findByPr(db: Db, baseTenantId: string, prNumber: number): PreviewRow | undefined {
  return (
    db
      .query<PreviewRow, [string, number]>("SELECT * FROM previews WHERE base_tenant_id = ? AND pr_number = ?")
      .get(baseTenantId, prNumber) ?? undefined
  );
}

/** Previews of one base tenant, newest pull request first. */
export function listOf(db: Db, baseTenantId: string): PreviewRow[] {
  return db
    .query<PreviewRow, [string]>("SELECT * FROM previews WHERE base_tenant_id = ? ORDER BY pr_number DESC")
    .all(baseTenantId);
}

/** Every preview with its base's TTL and its own tenant status (the sweep's input). */
export function listWithTtl(db: Db): PreviewWithTtl[] {
  return db
    .query<PreviewWithTtl, []>(
      `SELECT p.*, t.status AS status, s.ttl_hours AS ttl_hours, b.status AS base_status FROM previews p
         JOIN tenants t ON t.id = p.tenant_id
         LEFT JOIN tenants b ON b.id = p.base_tenant_id
         LEFT JOIN preview_settings s ON s.tenant_id = p.base_tenant_id
        ORDER BY p.created_at`,
    )
    .all();
}

/** Previews of `owner` that count against the limit (deleting ones are on their way out). */
export function countActive(db: Db, owner: Owner): number {
  return db
    .query<{ n: number }, [string, string]>(
      `SELECT COUNT(*) AS n FROM previews p JOIN tenants t ON t.id = p.tenant_id
        WHERE t.provider_id = ? AND t.mode = ? AND t.status != 'deleting'`,
    )
    .get(owner.providerId, owner.mode)!.n;
}

export function insert(db: Db, row: PreviewRow): void {
  db.query(
    `INSERT INTO previews (tenant_id, base_tenant_id, repo, pr_number, head_repo, head_ref, head_sha, comment_id, created_at, updated_at)
            VALUES ($tenant_id, $base_tenant_id, $repo, $pr_number, $head_repo, $head_ref, $head_sha, $comment_id, $created_at, $updated_at)`,
  ).run(named(row));
}

/** A new head commit deployed (synchronize, reopened). */
export function updateHead(db: Db, tenantId: string, head: { head_ref: string; head_sha: string; updated_at: string }): void {
  db.query("UPDATE previews SET head_ref = $head_ref, head_sha = $head_sha, updated_at = $updated_at WHERE tenant_id = $id").run({
    id: tenantId,
    ...head,
  });
}

/** Takes the right to post the PR comment (comment_id NULL → 0); false when another post has it or one exists. */
export function claimComment(db: Db, tenantId: string): boolean {
  return db.query("UPDATE previews SET comment_id = 0 WHERE tenant_id = ? AND comment_id IS NULL").run(tenantId).changes === 1;
}

/** The comment's id once posted, or NULL again when posting failed (the next success tries again). */
export function setComment(db: Db, tenantId: string, commentId: number | null): void {
  db.query("UPDATE previews SET comment_id = ? WHERE tenant_id = ?").run(commentId, tenantId);
}
