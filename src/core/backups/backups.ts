// Tenant volume backups: on demand, listed, restored, deleted; each runs in the tenant's lane (after any deployment
// queued before it, and no deployment starts while it runs).
import type { Ctx } from "../context.ts";
import type { Principal } from "../identity/principal.ts";
import type { TenantRow } from "../../store/tenants.ts";
import type { ServiceRow } from "../../store/services.ts";
import type { BackupKind, BackupRow } from "../../store/backups.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import * as backups from "../../store/backups.ts";
import { nowIso, randomAlnum } from "../../lib/ids.ts";
import { Conflict, Invalid, Unprocessable } from "../../lib/errors.ts";
import { mountsOf } from "../deploy/volumes.ts";
import { parseCreate } from "./input.ts";
import { isPostgres } from "./plan.ts";
import { runBackup, runRestore } from "./executor.ts";
import { removeBackupFile } from "./files.ts";
import { planRetention } from "./retention-plan.ts";

export function backupView(b: BackupRow) {
  return {
    id: b.id,
    service: b.service,
    kind: b.kind,
    method: b.method,
    status: b.status,
    reason: b.reason,
    size_bytes: b.size_bytes,
    created_at: b.created_at,
    finished_at: b.finished_at,
    restore_status: b.restore_status,
    restore_reason: b.restore_reason,
    restored_at: b.restored_at,
  };
}

/** A service holding data: Postgres (dumped) or any service with a volume (tarred). */
export const holdsData = (s: ServiceRow): boolean => isPostgres(s.image_url) || mountsOf(s).length > 0;

const busy = (b: BackupRow) => b.status === "queued" || b.status === "running" || b.restore_status === "running";

function tenantOf(ctx: Ctx, p: Principal, tenantId: string): TenantRow {
  const t = tenants.get(ctx.db, p, tenantId);
  if (t.status === "deleting") throw new Unprocessable("tenant_deleting", "The tenant is being deleted");
  return t;
}

export function listBackups(ctx: Ctx, p: Principal, tenantId: string): BackupRow[] {
  return backups.list(ctx.db, tenants.get(ctx.db, p, tenantId).id);
}

/** Queues a backup of one service in the tenant's lane; the row is returned `queued`. */
export function queueBackup(ctx: Ctx, t: TenantRow, s: ServiceRow, kind: BackupKind): BackupRow {
  const row: BackupRow = {
    id: `bkp_${randomAlnum(16)}`,
    tenant_id: t.id,
    service: s.name,
    kind,
    method: isPostgres(s.image_url) && s.container_id ? "pg_dump" : "volume_tar",
    status: "queued",
    reason: null,
    size_bytes: null,
    file: null,
    restore_status: null,
    restore_reason: null,
    restored_at: null,
    created_at: nowIso(ctx.now()),
    finished_at: null,
  };
  backups.insert(ctx.db, row);
  void ctx.deployer.queue.enqueue(t.id, () => runBackup(ctx, row.id, t.id));
  return row;
}

/** POST …/backups: the named service, or every service holding data. A service with a backup under way answers 409. */
export function createBackups(ctx: Ctx, p: Principal, tenantId: string, body: Record<string, unknown>): BackupRow[] {
  const t = tenantOf(ctx, p, tenantId);
  const { service } = parseCreate(body);
  let targets: ServiceRow[];
  if (service) {
    const s = services.find(ctx.db, t.id, service);
    if (!s) throw new Invalid("service", `Tenant has no service named "${service}"`);
    if (!holdsData(s))
      throw new Invalid("service", `Service "${service}" has no volume and is not a Postgres: nothing to back up`);
    targets = [s];
  } else {
    targets = services.list(ctx.db, t.id).filter(holdsData);
    if (!targets.length)
      throw new Unprocessable(
        "nothing_to_back_up",
        "No service of this tenant has a volume or is a Postgres: nothing to back up",
      );
  }
  const under = new Set(
    backups
      .list(ctx.db, t.id)
      .filter(busy)
      .map((b) => b.service),
  );
  const taken = targets.find((s) => under.has(s.name));
  if (taken)
    throw new Conflict(`A backup or restore of service "${taken.name}" is under way`, { service: taken.name }, "backup_running");
  return targets.map((s) => queueBackup(ctx, t, s, "manual"));
}

/** Restores a succeeded backup into its service, in the tenant's lane; the row comes back with restore_status running. */
export function restoreBackup(ctx: Ctx, p: Principal, tenantId: string, backupId: string): BackupRow {
  const t = tenantOf(ctx, p, tenantId);
  const b = backups.get(ctx.db, t.id, backupId);
  if (b.status !== "succeeded" || !b.file)
    throw new Conflict(`Backup ${b.id} is ${b.status}: only a succeeded backup can be restored`, {}, "backup_not_restorable");
  const other = backups.list(ctx.db, t.id).find((x) => x.service === b.service && busy(x));
  if (other)
    throw new Conflict(`A backup or restore of service "${b.service}" is under way`, { service: b.service }, "backup_running");
  backups.update(ctx.db, b.id, { restore_status: "running", restore_reason: null, restored_at: null });
  void ctx.deployer.queue.enqueue(t.id, () => runRestore(ctx, b.id, t.id));
  return backups.get(ctx.db, t.id, b.id);
}

/** Deletes a backup and its file; one under way answers 409. */
export function deleteBackup(ctx: Ctx, p: Principal, tenantId: string, backupId: string): void {
  const t = tenants.get(ctx.db, p, tenantId);
  const b = backups.get(ctx.db, t.id, backupId);
  if (busy(b)) throw new Conflict(`Backup ${b.id} is in use (a backup or restore is under way)`, {}, "backup_running");
  removeBackupFile(ctx, t.id, b.file);
  backups.remove(ctx.db, b.id);
}

/** Applies the schedule's retention to a tenant's scheduled backups; returns the ids removed. */
export function applyRetention(ctx: Ctx, tenantId: string, keep: number): string[] {
  const rows = backups.list(ctx.db, tenantId);
  const gone = planRetention(rows, keep);
  for (const id of gone) {
    removeBackupFile(ctx, tenantId, rows.find((r) => r.id === id)!.file);
    backups.remove(ctx.db, id);
  }
  return gone;
}

/** Start-up: backups and restores a previous process left under way end `failed` (their files were never finished). */
export function failInterruptedBackups(ctx: Ctx): number {
  const now = nowIso(ctx.now());
  const reason = "the appliance restarted during it";
  const left = backups.listUnfinished(ctx.db);
  for (const b of left) {
    if (b.status === "queued" || b.status === "running")
      backups.update(ctx.db, b.id, { status: "failed", reason, finished_at: now });
    if (b.restore_status === "running") backups.update(ctx.db, b.id, { restore_status: "failed", restore_reason: reason });
  }
  return left.length;
}
