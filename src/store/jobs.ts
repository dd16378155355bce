// Scheduled jobs of a tenant and their runs. Runs are bounded: the newest RUNS_KEPT per job stay.
import { named, type Db } from "./db.ts";
import { NotFound } from "../lib/errors.ts";

export type ConcurrencyPolicy = "forbid" | "allow" | "replace";
export type RunStatus = "running" | "succeeded" | "failed" | "timed_out" | "skipped" | "replaced" | "interrupted";
export type RunTrigger = "schedule" | "manual" | "catch-up";

export interface JobRow {
  id: string;
  tenant_id: string;
  service: string;
  schedule: string;
  /** JSON array of strings. */
  command: string;
  timeout_sec: number;
  concurrency_policy: ConcurrencyPolicy;
  paused: number;
  next_run_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface JobRunRow {
  id: string;
  job_id: string;
  tenant_id: string;
  trigger: RunTrigger;
  status: RunStatus;
  image: string | null;
  container_id: string | null;
  exit_code: number | null;
  logs: string | null;
  reason: string | null;
  scheduled_for: string | null;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
}

/** Runs kept per job: a job every minute keeps under an hour of history, and the table stays small. */
export const RUNS_KEPT = 50;

export function find(db: Db, tenantId: string, id: string): JobRow | undefined {
  return db.query<JobRow, [string, string]>("SELECT * FROM jobs WHERE id = ? AND tenant_id = ?").get(id, tenantId) ?? undefined;
}

export function get(db: Db, tenantId: string, id: string): JobRow {
  const row = find(db, tenantId, id);
  if (!row) throw new NotFound("Job");
  return row;
}

export function findById(db: Db, id: string): JobRow | undefined {
  return db.query<JobRow, [string]>("SELECT * FROM jobs WHERE id = ?").get(id) ?? undefined;
}

export function list(db: Db, tenantId: string): JobRow[] {
  return db.query<JobRow, [string]>("SELECT * FROM jobs WHERE tenant_id = ? ORDER BY created_at, rowid").all(tenantId);
}

export function count(db: Db, tenantId: string): number {
  return db.query<{ n: number }, [string]>("SELECT COUNT(*) AS n FROM jobs WHERE tenant_id = ?").get(tenantId)!.n;
}

/** Unpaused jobs whose next fire time is at or before `nowIso`. */
export function listDue(db: Db, nowIso: string): JobRow[] {
  return db
    .query<JobRow, [string]>(
      "SELECT * FROM jobs WHERE paused = 0 AND next_run_at IS NOT NULL AND next_run_at <= ? ORDER BY next_run_at",
    )
    .all(nowIso);
}

export function insert(db: Db, row: JobRow): void {
  db.query(
    `INSERT INTO jobs (id, tenant_id, service, schedule, command, timeout_sec, concurrency_policy, paused, next_run_at, created_at, updated_at)
     VALUES ($id, $tenant_id, $service, $schedule, $command, $timeout_sec, $concurrency_policy, $paused, $next_run_at, $created_at, $updated_at)`,
  ).run(named(row));
}

export function update(
  db: Db,
  id: string,
  fields: Partial<Pick<JobRow, "paused" | "next_run_at">> & { updated_at: string },
): void {
  const keys = Object.keys(fields);
  db.query(`UPDATE jobs SET ${keys.map((k) => `${k} = $${k}`).join(", ")} WHERE id = $id`).run(named({ ...fields, id }));
}

export function remove(db: Db, id: string): void {
  db.query("DELETE FROM jobs WHERE id = ?").run(id);
}

export function findRun(db: Db, jobId: string, runId: string): JobRunRow | undefined {
  return (
    db.query<JobRunRow, [string, string]>("SELECT * FROM job_runs WHERE id = ? AND job_id = ?").get(runId, jobId) ?? undefined
  );
}

export function getRun(db: Db, jobId: string, runId: string): JobRunRow {
  const row = findRun(db, jobId, runId);
  if (!row) throw new NotFound("Job run");
  return row;
}

/** Runs of a job, newest first. */
export function listRuns(db: Db, jobId: string, limit = RUNS_KEPT): JobRunRow[] {
  return db
    .query<JobRunRow, [string, number]>("SELECT * FROM job_runs WHERE job_id = ? ORDER BY started_at DESC, rowid DESC LIMIT ?")
    .all(jobId, limit);
}

export function listRunning(db: Db, jobId?: string): JobRunRow[] {
  return db
    .query<JobRunRow, [string | null]>(
      "SELECT * FROM job_runs WHERE status = 'running' AND (?1 IS NULL OR job_id = ?1) ORDER BY started_at, rowid",
    )
    .all(jobId ?? null);
}

/** Inserts a run and drops the job's oldest finished runs beyond RUNS_KEPT. */
export function insertRun(db: Db, row: JobRunRow): void {
  db.transaction(() => {
    db.query(
      `INSERT INTO job_runs (id, job_id, tenant_id, trigger, status, image, container_id, exit_code, logs, reason, scheduled_for, started_at, finished_at, duration_ms)
       VALUES ($id, $job_id, $tenant_id, $trigger, $status, $image, $container_id, $exit_code, $logs, $reason, $scheduled_for, $started_at, $finished_at, $duration_ms)`,
    ).run(named(row));
    db.query(
      `DELETE FROM job_runs WHERE job_id = ?1 AND status != 'running' AND id NOT IN
         (SELECT id FROM job_runs WHERE job_id = ?1 ORDER BY started_at DESC, rowid DESC LIMIT ?2)`,
    ).run(row.job_id, RUNS_KEPT);
  })();
}

type RunFields = Partial<
  Pick<JobRunRow, "status" | "container_id" | "exit_code" | "logs" | "reason" | "finished_at" | "duration_ms">
>;

/** Updates a run only while it is still running (a run replaced or interrupted meanwhile keeps that end); true when it did. */
export function finishRun(db: Db, id: string, fields: RunFields): boolean {
  const keys = Object.keys(fields);
  const r = db
    .query(`UPDATE job_runs SET ${keys.map((k) => `${k} = $${k}`).join(", ")} WHERE id = $id AND status = 'running'`)
    .run(named({ ...fields, id }));
  return r.changes > 0;
}
