// Scheduled jobs of a tenant: create, list, get, delete, pause, resume, run now, runs; the scheduler's tick.
import type { Ctx } from "../context.ts";
import type { Principal } from "../identity/principal.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import * as jobs from "../../store/jobs.ts";
import type { JobRow, JobRunRow } from "../../store/jobs.ts";
import { randomAlnum, nowIso } from "../../lib/ids.ts";
import { Invalid, Unprocessable } from "../../lib/errors.ts";
import { cronOf, parseJob } from "./input.ts";
import { dueFires } from "./policy.ts";
import { startRun, stopRun } from "./runner.ts";

/** Jobs per tenant: each may start a container a minute. */
export const JOBS_PER_TENANT = 20;

export function jobView(j: JobRow) {
  return {
    id: j.id,
    service: j.service,
    schedule: j.schedule,
    command: JSON.parse(j.command) as string[],
    timeout_sec: j.timeout_sec,
    concurrency_policy: j.concurrency_policy,
    paused: j.paused === 1,
    next_run_at: j.paused ? null : j.next_run_at,
    created_at: j.created_at,
    updated_at: j.updated_at,
  };
}

/** A run as listed; `logs` only on a single run (GET …/runs/{runId}). */
export function runView(r: JobRunRow, withLogs = false) {
  return {
    id: r.id,
    job_id: r.job_id,
    trigger: r.trigger,
    status: r.status,
    image: r.image,
    exit_code: r.exit_code,
    reason: r.reason,
    scheduled_for: r.scheduled_for,
    started_at: r.started_at,
    finished_at: r.finished_at,
    duration_ms: r.duration_ms,
    ...(withLogs ? { logs: r.logs ?? "" } : {}),
  };
}

const nextFire = (schedule: string, after: Date): string | null => {
  const n = cronOf(schedule).nextRun(after);
  return n ? nowIso(n) : null;
};

export function listJobs(ctx: Ctx, p: Principal, tenantId: string): JobRow[] {
  return jobs.list(ctx.db, tenants.get(ctx.db, p, tenantId).id);
}

export function getJob(ctx: Ctx, p: Principal, tenantId: string, id: string): JobRow {
  return jobs.get(ctx.db, tenants.get(ctx.db, p, tenantId).id, id);
}

export function createJob(ctx: Ctx, p: Principal, tenantId: string, body: Record<string, unknown>): JobRow {
  const t = tenants.get(ctx.db, p, tenantId);
  const d = parseJob(body);
  if (!services.find(ctx.db, t.id, d.service)) throw new Invalid("service", `Tenant has no service named "${d.service}"`);
  if (t.status === "deleting") throw new Unprocessable("tenant_deleting", "The tenant is being deleted");
  if (jobs.count(ctx.db, t.id) >= JOBS_PER_TENANT)
    throw new Unprocessable("job_limit_reached", `Job limit of ${JOBS_PER_TENANT} reached for this tenant`, {
      limit: JOBS_PER_TENANT,
    });
  const now = ctx.now();
  const row: JobRow = {
    id: `job_${randomAlnum(16)}`,
    tenant_id: t.id,
    service: d.service,
    schedule: d.schedule,
    command: JSON.stringify(d.command),
    timeout_sec: d.timeoutSec,
    concurrency_policy: d.policy,
    paused: d.paused ? 1 : 0,
    next_run_at: nextFire(d.schedule, now),
    created_at: nowIso(now),
    updated_at: nowIso(now),
  };
  jobs.insert(ctx.db, row);
  return row;
}

/** Deletes the job; a run still going is stopped (its container removed). */
export async function deleteJob(ctx: Ctx, p: Principal, tenantId: string, id: string): Promise<void> {
  const j = getJob(ctx, p, tenantId, id);
  for (const r of jobs.listRunning(ctx.db, j.id)) await stopRun(ctx, j.id, r.id, "the job was deleted", "interrupted");
  jobs.remove(ctx.db, j.id);
}

/** Pause keeps the job and its runs (a run going finishes); resume waits for the next fire from now: nothing is caught up. */
export function setPaused(ctx: Ctx, p: Principal, tenantId: string, id: string, paused: boolean): JobRow {
  const j = getJob(ctx, p, tenantId, id);
  const now = ctx.now();
  jobs.update(ctx.db, j.id, {
    paused: paused ? 1 : 0,
    next_run_at: paused ? j.next_run_at : nextFire(j.schedule, now),
    updated_at: nowIso(now),
  });
  return jobs.get(ctx.db, j.tenant_id, j.id);
}

export function runNow(ctx: Ctx, p: Principal, tenantId: string, id: string): Promise<JobRunRow> {
  return startRun(ctx, getJob(ctx, p, tenantId, id), "manual");
}

export function listRuns(ctx: Ctx, p: Principal, tenantId: string, id: string): JobRunRow[] {
  return jobs.listRuns(ctx.db, getJob(ctx, p, tenantId, id).id);
}

export function getRun(ctx: Ctx, p: Principal, tenantId: string, id: string, runId: string): JobRunRow {
  return jobs.getRun(ctx.db, getJob(ctx, p, tenantId, id).id, runId);
}

/**
 * One scheduler pass (by ctx.now): every due job fires once; fires missed while the appliance was down are
 * counted, not replayed (the run is a `catch-up` naming how many). Never throws.
 */
export async function tickJobs(ctx: Ctx): Promise<JobRunRow[]> {
  const now = ctx.now();
  const out: JobRunRow[] = [];
  for (const j of jobs.listDue(ctx.db, nowIso(now))) {
    try {
      const cron = cronOf(j.schedule);
      const f = dueFires(j.next_run_at ? new Date(j.next_run_at) : null, now, (after) => cron.nextRun(after));
      if (!f.due) continue;
      // The next fire is recorded before the run starts: a slow start never fires the same minute twice.
      jobs.update(ctx.db, j.id, { next_run_at: f.next ? nowIso(f.next) : null, updated_at: j.updated_at });
      const note = f.missed ? `${f.missed} earlier fire(s) missed while the appliance was down; run once` : undefined;
      out.push(await startRun(ctx, j, f.missed ? "catch-up" : "schedule", { scheduledFor: j.next_run_at!, note }));
    } catch (e) {
      ctx.log.error("job: scheduled run failed", { job_id: j.id, error: (e as Error).message });
    }
  }
  return out;
}

/** Start-up: runs left `running` by a previous process are ended `interrupted` (start-up reconciliation removes their containers). */
export function interruptStaleRuns(ctx: Ctx): number {
  let n = 0;
  for (const r of jobs.listRunning(ctx.db)) {
    if (
      jobs.finishRun(ctx.db, r.id, {
        status: "interrupted",
        reason: "the appliance restarted during the run",
        finished_at: nowIso(ctx.now()),
      })
    )
      n++;
  }
  return n;
}
