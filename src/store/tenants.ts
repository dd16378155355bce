// Tenants: one row per isolated environment; every provider-facing query filters by provider and mode.
import { named, type Db } from "./db.ts";
import { NotFound } from "../lib/errors.ts";

/** degraded: serving, with fewer of a service's replicas running than it asks for (a cluster engine's node lost). */
export type TenantStatus = "provisioning" | "deploying" | "ready" | "degraded" | "failed" | "deleting";

export interface TenantRow {
  id: string;
  provider_id: string;
  mode: "live" | "test";
  name: string;
  display_name: string | null;
  status: TenantStatus;
  status_reason: string | null;
  source_type: string | null;
  repo_url: string | null;
  branch: string;
  image_url: string | null;
  resource_size: string;
  app_port: number | null;
  egress_mode: string;
  env_enc: string | null;
  template_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface Owner {
  providerId: string;
  mode: "live" | "test";
}

export interface ListQuery {
  status?: string;
  search?: string;
  sort: "created_at" | "name";
  desc: boolean;
  limit: number;
  offset: number;
}

/** A tenant of `owner`, or undefined (a foreign id looks exactly like a missing one). */
export function find(db: Db, owner: Owner, id: string): TenantRow | undefined {
  return (
    db
      .query<TenantRow, [string, string, string]>("SELECT * FROM tenants WHERE id = ? AND provider_id = ? AND mode = ?")
      .get(id, owner.providerId, owner.mode) ?? undefined
  );
}

export function get(db: Db, owner: Owner, id: string): TenantRow {
  const row = find(db, owner, id);
  if (!row) throw new NotFound("Tenant");
  return row;
}

/** By id regardless of owner: for the pipeline and the scheduler only, never for a request. */
export function findById(db: Db, id: string): TenantRow | undefined {
  return db.query<TenantRow, [string]>("SELECT * FROM tenants WHERE id = ?").get(id) ?? undefined;
}

export function findByName(db: Db, name: string): TenantRow | undefined {
  return db.query<TenantRow, [string]>("SELECT * FROM tenants WHERE name = ?").get(name) ?? undefined;
}

export function list(db: Db, owner: Owner, q: ListQuery): { rows: TenantRow[]; total: number } {
  const where = ["provider_id = $p", "mode = $m"];
  const args: Record<string, string | number> = { p: owner.providerId, m: owner.mode };
  if (q.status) {
    where.push("status = $status");
    args.status = q.status;
  }
  if (q.search) {
    // LIKE wildcards in the user's text are escaped: a search for "a_b" means that literally.
    where.push("name LIKE $search ESCAPE '\\'");
    args.search = `%${q.search.replace(/[\\%_]/g, (c) => "\\" + c)}%`;
  }
  const w = where.join(" AND ");
  // The sort column comes from a closed set, never from the request text itself.
  const dir = q.desc ? "DESC" : "ASC";
  const order = `${q.sort === "name" ? "name" : "created_at"} ${dir}, id ${dir}`; // both in one direction: read in index order
  // Without a search the total is kept by triggers (tenant_counts); counting a provider's rows per request grows with them.
  const total = q.search
    ? db.query<{ n: number }, any>(`SELECT COUNT(*) AS n FROM tenants WHERE ${w}`).get(args)!.n
    : countByStatus(db, owner, q.status);
  const rows = db
    .query<TenantRow, any>(`SELECT * FROM tenants WHERE ${w} ORDER BY ${order} LIMIT $limit OFFSET $offset`)
    .all({ ...args, limit: q.limit, offset: q.offset });
  return { rows, total };
}

/** Tenants of `owner` that count against the limit (deleting ones are on their way out). */
export function count(db: Db, owner: Owner): number {
  return db
    .query<{ n: number }, [string, string]>(
      "SELECT COALESCE(SUM(n), 0) AS n FROM tenant_counts WHERE provider_id = ? AND mode = ? AND status != 'deleting'",
    )
    .get(owner.providerId, owner.mode)!.n;
}

/** Tenants of `owner` (in `status` when given), from the counts the triggers keep: a few rows, however many tenants. */
export function countByStatus(db: Db, owner: Owner, status?: string): number {
  return db
    .query<{ n: number }, [string, string, string | null]>(
      "SELECT COALESCE(SUM(n), 0) AS n FROM tenant_counts WHERE provider_id = ?1 AND mode = ?2 AND (?3 IS NULL OR status = ?3)",
    )
    .get(owner.providerId, owner.mode, status ?? null)!.n;
}

export function listAll(db: Db): TenantRow[] {
  return db.query<TenantRow, []>("SELECT * FROM tenants ORDER BY created_at").all();
}

/** Tenants whose egress is restricted (the node agents' state), id and name only. */
export function listRestricted(db: Db): Array<Pick<TenantRow, "id" | "name">> {
  return db.query<Pick<TenantRow, "id" | "name">, []>("SELECT id, name FROM tenants WHERE egress_mode = 'restricted'").all();
}

/** Test-mode tenants created before `beforeIso` (the TTL purge). */
export function listExpiredTest(db: Db, beforeIso: string): TenantRow[] {
  return db
    .query<TenantRow, [string]>("SELECT * FROM tenants WHERE mode = 'test' AND created_at < ? AND status != 'deleting'")
    .all(beforeIso);
}

export function insert(db: Db, row: TenantRow): void {
  db.query(
    `INSERT INTO tenants (id, provider_id, mode, name, display_name, status, status_reason, source_type, repo_url, branch,
              image_url, resource_size, app_port, egress_mode, env_enc, template_id, created_at, updated_at)
            VALUES ($id, $provider_id, $mode, $name, $display_name, $status, $status_reason, $source_type, $repo_url, $branch,
              $image_url, $resource_size, $app_port, $egress_mode, $env_enc, $template_id, $created_at, $updated_at)`,
  ).run(named(row));
}

type Mutable = Partial<
  Pick<
    TenantRow,
    | "display_name"
    | "status"
    | "status_reason"
    | "branch"
    | "resource_size"
    | "app_port"
    | "egress_mode"
    | "env_enc"
    | "repo_url"
    | "image_url"
  >
>;

/** Updates the given columns (only those from a fixed list) and `updated_at`. */
export function update(db: Db, id: string, fields: Mutable & { updated_at: string }): void {
  const cols = Object.keys(fields).filter((k) => UPDATABLE.has(k));
  if (cols.length === 0) return;
  const sets = cols.map((c) => `${c} = $${c}`).join(", ");
  const args: Record<string, unknown> = { id };
  for (const c of cols) args[c] = (fields as Record<string, unknown>)[c] ?? null;
  db.query(`UPDATE tenants SET ${sets} WHERE id = $id`).run(args as any);
}
const UPDATABLE = new Set([
  "display_name",
  "status",
  "status_reason",
  "branch",
  "resource_size",
  "app_port",
  "egress_mode",
  "env_enc",
  "repo_url",
  "image_url",
  "updated_at",
]);

export function remove(db: Db, id: string): void {
  db.query("DELETE FROM tenants WHERE id = ?").run(id);
}
