// Tenant volume backups (one row per backup of one service) and each tenant's backup schedule.
import { named, type Db } from "./db.ts";
import { NotFound } from "../lib/errors.ts";

export type BackupKind = "manual" | "scheduled";
export type BackupMethod = "pg_dump" | "volume_tar";
export type BackupStatus = "queued" | "running" | "succeeded" | "failed";
export type RestoreStatus = "running" | "succeeded" | "failed";

export interface BackupRow {
  id: string;
  tenant_id: string;
  service: string;
  kind: BackupKind;
  method: BackupMethod;
  status: BackupStatus;
  reason: string | null;
  size_bytes: number | null;
  /** File name inside the tenant's backup dir; null until written. */
  file: string | null;
  restore_status: RestoreStatus | null;
  restore_reason: string | null;
  restored_at: string | null;
  created_at: string;
  finished_at: string | null;
}

export interface ScheduleRow {
  tenant_id: string;
  cron: string;
  keep: number;
  next_run_at: string | null;
  created_at: string;
  updated_at: string;
}

export function find(db: Db, tenantId: string, id: string): BackupRow | undefined {
  return (
    db.query<BackupRow, [string, string]>("SELECT * FROM backups WHERE id = ? AND tenant_id = ?").get(id, tenantId) ?? undefined
  );
}

export function get(db: Db, tenantId: string, id: string): BackupRow {
  const row = find(db, tenantId, id);
  if (!row) throw new NotFound("Backup");
  return row;
}

/** A tenant's backups, newest first. */
export function list(db: Db, tenantId: string): BackupRow[] {
  return db
    .query<BackupRow, [string]>("SELECT * FROM backups WHERE tenant_id = ? ORDER BY created_at DESC, rowid DESC")
    .all(tenantId);
}

/** Backups queued or running (start-up marks them failed: their work died with the process). */
export function listUnfinished(db: Db): BackupRow[] {
  return db
    .query<BackupRow, []>("SELECT * FROM backups WHERE status IN ('queued', 'running') OR restore_status = 'running'")
    .all();
}

export function insert(db: Db, row: BackupRow): void {
  db.query(
    `INSERT INTO backups (id, tenant_id, service, kind, method, status, reason, size_bytes, file, restore_status, restore_reason, restored_at, created_at, finished_at)
     VALUES ($id, $tenant_id, $service, $kind, $method, $status, $reason, $size_bytes, $file, $restore_status, $restore_reason, $restored_at, $created_at, $finished_at)`,
  ).run(named(row));
}

type Fields = Partial<Omit<BackupRow, "id" | "tenant_id" | "service" | "kind" | "created_at">>;

export function update(db: Db, id: string, fields: Fields): void {
  const keys = Object.keys(fields);
  if (!keys.length) return;
  db.query(`UPDATE backups SET ${keys.map((k) => `${k} = $${k}`).join(", ")} WHERE id = $id`).run(named({ ...fields, id }));
}

export function remove(db: Db, id: string): void {
  db.query("DELETE FROM backups WHERE id = ?").run(id);
}

export function findSchedule(db: Db, tenantId: string): ScheduleRow | undefined {
  return db.query<ScheduleRow, [string]>("SELECT * FROM backup_schedules WHERE tenant_id = ?").get(tenantId) ?? undefined;
}

export function getSchedule(db: Db, tenantId: string): ScheduleRow {
  const row = findSchedule(db, tenantId);
  if (!row) throw new NotFound("Backup schedule");
  return row;
}

/** Creates or replaces the tenant's schedule. */
export function putSchedule(db: Db, row: ScheduleRow): void {
  db.query(
    `INSERT INTO backup_schedules (tenant_id, cron, keep, next_run_at, created_at, updated_at)
     VALUES ($tenant_id, $cron, $keep, $next_run_at, $created_at, $updated_at)
     ON CONFLICT (tenant_id) DO UPDATE SET cron = excluded.cron, keep = excluded.keep,
       next_run_at = excluded.next_run_at, updated_at = excluded.updated_at`,
  ).run(named(row));
}

export function setNextRun(db: Db, tenantId: string, nextRunAt: string | null): void {
  db.query("UPDATE backup_schedules SET next_run_at = ? WHERE tenant_id = ?").run(nextRunAt, tenantId);
}

export function removeSchedule(db: Db, tenantId: string): boolean {
  return db.query("DELETE FROM backup_schedules WHERE tenant_id = ?").run(tenantId).changes > 0;
}

/** Schedules whose next fire is at or before `nowIso`. */
export function listDueSchedules(db: Db, nowIso: string): ScheduleRow[] {
  return db
    .query<ScheduleRow, [string]>(
      "SELECT * FROM backup_schedules WHERE next_run_at IS NOT NULL AND next_run_at <= ? ORDER BY next_run_at",
    )
    .all(nowIso);
}
