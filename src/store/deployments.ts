// Deployments: one attempt to put a version of a service live, with its build log and timings.
import { named, type Db } from "./db.ts";
import { NotFound } from "../lib/errors.ts";

export type DeploymentStatus = "queued" | "building" | "deploying" | "succeeded" | "failed";
export const ACTIVE_STATUSES: DeploymentStatus[] = ["queued", "building", "deploying"];

export interface DeploymentRow {
  id: string;
  tenant_id: string;
  service_id: string;
  service_name: string;
  status: DeploymentStatus;
  reason: string | null;
  trigger: string;
  branch: string | null;
  commit_sha: string | null;
  requested_sha: string | null;
  image: string | null;
  image_id: string | null;
  framework: string | null;
  /** Port the deployment's container listens on (detected or requested); a reuse of its image reuses it. */
  port: number | null;
  rollback_from: string | null;
  container_id: string | null;
  build_log: string;
  timings: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

/** Columns for lists: everything but the (possibly large) build log. */
const LIST_COLS =
  "id, tenant_id, service_id, service_name, status, reason, trigger, branch, commit_sha, requested_sha, image, image_id, framework, port, rollback_from, container_id, '' AS build_log, timings, created_at, started_at, finished_at";

export function find(db: Db, tenantId: string, id: string): DeploymentRow | undefined {
  return (
    db
      .query<DeploymentRow, [string, string]>(`SELECT ${LIST_COLS} FROM deployments WHERE tenant_id = ? AND id = ?`)
      .get(tenantId, id) ?? undefined
  );
}

export function get(db: Db, tenantId: string, id: string): DeploymentRow {
  const row = find(db, tenantId, id);
  if (!row) throw new NotFound("Deployment");
  return row;
}

export function buildLog(db: Db, tenantId: string, id: string): string {
  const row = db
    .query<{ build_log: string }, [string, string]>("SELECT build_log FROM deployments WHERE tenant_id = ? AND id = ?")
    .get(tenantId, id);
  if (!row) throw new NotFound("Deployment");
  return row.build_log;
}

/** Newest first; optionally one service's. */
export function list(
  db: Db,
  tenantId: string,
  q: { serviceId?: string; limit: number; offset: number },
): { rows: DeploymentRow[]; total: number } {
  const svc = q.serviceId ? " AND service_id = $s" : "";
  const args: Record<string, string | number> = { t: tenantId };
  if (q.serviceId) args.s = q.serviceId;
  const total = db.query<{ n: number }, any>(`SELECT COUNT(*) AS n FROM deployments WHERE tenant_id = $t${svc}`).get(args)!.n;
  const rows = db
    .query<DeploymentRow, any>(
      `SELECT ${LIST_COLS} FROM deployments WHERE tenant_id = $t${svc} ORDER BY created_at DESC, rowid DESC LIMIT $l OFFSET $o`,
    )
    .all({ ...args, l: q.limit, o: q.offset });
  return { rows, total };
}

/** Deployments not yet finished, across tenants (reconciliation) or for one tenant. */
export function listActive(db: Db, tenantId?: string): DeploymentRow[] {
  const base = `SELECT ${LIST_COLS} FROM deployments WHERE status IN ('queued','building','deploying')`;
  return tenantId
    ? db.query<DeploymentRow, [string]>(`${base} AND tenant_id = ? ORDER BY rowid`).all(tenantId)
    : db.query<DeploymentRow, []>(`${base} ORDER BY rowid`).all();
}

/** Image refs/ids ever built or run for a tenant (cleanup on delete). */
export function imagesOf(db: Db, tenantId: string): string[] {
  return db
    .query<{ image: string }, [string]>(
      "SELECT DISTINCT COALESCE(image, image_id) AS image FROM deployments WHERE tenant_id = ? AND COALESCE(image, image_id) IS NOT NULL",
    )
    .all(tenantId)
    .map((r) => r.image);
}

export function insert(db: Db, row: DeploymentRow): void {
  db.query(
    `INSERT INTO deployments (id, tenant_id, service_id, service_name, status, reason, trigger, branch, commit_sha, requested_sha,
              image, image_id, framework, port, rollback_from, container_id, build_log, timings, created_at, started_at, finished_at)
            VALUES ($id, $tenant_id, $service_id, $service_name, $status, $reason, $trigger, $branch, $commit_sha, $requested_sha,
              $image, $image_id, $framework, $port, $rollback_from, $container_id, $build_log, $timings, $created_at, $started_at, $finished_at)`,
  ).run(named(row));
}

const UPDATABLE = new Set([
  "status",
  "reason",
  "commit_sha",
  "image",
  "image_id",
  "framework",
  "port",
  "container_id",
  "timings",
  "started_at",
  "finished_at",
]);
type Mutable = Partial<
  Pick<
    DeploymentRow,
    | "status"
    | "reason"
    | "commit_sha"
    | "image"
    | "image_id"
    | "framework"
    | "port"
    | "container_id"
    | "timings"
    | "started_at"
    | "finished_at"
  >
>;

export function update(db: Db, id: string, fields: Mutable): void {
  const cols = Object.keys(fields).filter((k) => UPDATABLE.has(k));
  if (cols.length === 0) return;
  const args: Record<string, unknown> = { id };
  for (const c of cols) args[c] = (fields as Record<string, unknown>)[c] ?? null;
  db.query(`UPDATE deployments SET ${cols.map((c) => `${c} = $${c}`).join(", ")} WHERE id = $id`).run(args as any);
}

/** Appends to the build log, keeping at most `maxBytes` (the tail: the end of a log says why it failed). */
export function appendLog(db: Db, id: string, chunk: string, maxBytes = 1_000_000): void {
  db.query("UPDATE deployments SET build_log = substr(build_log || $c, -$max) WHERE id = $id").run({
    id,
    c: chunk,
    max: maxBytes,
  });
}
