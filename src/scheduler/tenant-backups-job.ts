// croner job of tenants' backup schedules: every 10 s, fire the due ones by ctx.now (tests advance that clock).
import { Cron } from "croner";
import type { Ctx } from "../core/context.ts";
import { tickBackups } from "../core/backups/schedule.ts";
import { failInterruptedBackups } from "../core/backups/backups.ts";
import { removePartialFiles } from "../core/backups/files.ts";

/** Starts the tick (after ending backups a previous process left under way); returns a stop function. */
export function startTenantBackupScheduler(ctx: Ctx, opts: { everySec?: number } = {}): () => void {
  const stale = failInterruptedBackups(ctx);
  const partial = removePartialFiles(ctx);
  if (stale || partial) ctx.log.info("tenant backups interrupted by the restart", { rows: stale, partial_files: partial });
  const job = new Cron(
    "* * * * * *",
    { interval: opts.everySec ?? 10, protect: true, catch: true, name: "staxa-tenant-backups" },
    () => void tickBackups(ctx),
  );
  return () => job.stop();
}
