// A tenant's backup schedule (cron, keep) and the scheduler's pass: due schedules queue a backup of every service
// holding data, then retention keeps the newest `keep` scheduled backups per service.
import type { Ctx } from "../context.ts";
import type { Principal } from "../identity/principal.ts";
import type { ScheduleRow } from "../../store/backups.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import * as backups from "../../store/backups.ts";
import { nowIso } from "../../lib/ids.ts";
import { Unprocessable } from "../../lib/errors.ts";
import { cronOf, parseSchedule } from "./input.ts";
import { applyRetention, holdsData, queueBackup } from "./backups.ts";

export function scheduleView(s: ScheduleRow) {
  return { cron: s.cron, keep: s.keep, next_run_at: s.next_run_at, created_at: s.created_at, updated_at: s.updated_at };
}

const nextFire = (cron: string, after: Date): string | null => {
  const n = cronOf(cron).nextRun(after);
  return n ? nowIso(n) : null;
};

export function getSchedule(ctx: Ctx, p: Principal, tenantId: string): ScheduleRow {
  return backups.getSchedule(ctx.db, tenants.get(ctx.db, p, tenantId).id);
}

/** Creates or replaces the schedule; the first run is the next fire from now. */
export function putSchedule(ctx: Ctx, p: Principal, tenantId: string, body: Record<string, unknown>): ScheduleRow {
  const t = tenants.get(ctx.db, p, tenantId);
  const { cron, keep } = parseSchedule(body);
  if (t.status === "deleting") throw new Unprocessable("tenant_deleting", "The tenant is being deleted");
  const now = ctx.now();
  const prev = backups.findSchedule(ctx.db, t.id);
  backups.putSchedule(ctx.db, {
    tenant_id: t.id,
    cron,
    keep,
    next_run_at: nextFire(cron, now),
    created_at: prev?.created_at ?? nowIso(now),
    updated_at: nowIso(now),
  });
  return backups.getSchedule(ctx.db, t.id);
}

/** Removes the schedule; the backups it made stay (delete them one by one). */
export function deleteSchedule(ctx: Ctx, p: Principal, tenantId: string): void {
  const t = tenants.get(ctx.db, p, tenantId);
  backups.getSchedule(ctx.db, t.id);
  backups.removeSchedule(ctx.db, t.id);
}

/**
 * One scheduler pass (by ctx.now): each due schedule fires once (fires missed while the appliance was down are not
 * replayed), queueing a backup of each service holding data that has none under way. Never throws.
 */
export function tickBackups(ctx: Ctx): string[] {
  const now = ctx.now();
  const queued: string[] = [];
  for (const sch of backups.listDueSchedules(ctx.db, nowIso(now))) {
    try {
      // The next fire is recorded first: a slow pass never fires the same minute twice.
      backups.setNextRun(ctx.db, sch.tenant_id, nextFire(sch.cron, now));
      const t = tenants.findById(ctx.db, sch.tenant_id);
      if (!t || t.status === "deleting") continue;
      const under = new Set(
        backups
          .list(ctx.db, t.id)
          .filter((b) => b.status === "queued" || b.status === "running" || b.restore_status === "running")
          .map((b) => b.service),
      );
      for (const s of services.list(ctx.db, t.id).filter(holdsData)) {
        if (under.has(s.name)) continue;
        queued.push(queueBackup(ctx, t, s, "scheduled").id);
      }
      // After the backups in the same lane: retention counts the ones that just succeeded.
      void ctx.deployer.queue.enqueue(t.id, async () => void applyRetention(ctx, t.id, sch.keep));
    } catch (e) {
      ctx.log.error("backup schedule: pass failed", { tenant_id: sch.tenant_id, error: (e as Error).message });
    }
  }
  return queued;
}
