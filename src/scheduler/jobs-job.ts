// croner job of tenants' scheduled jobs: every 10 s, fire the due ones by ctx.now (tests advance that clock).
import { Cron } from "croner";
import type { Ctx } from "../core/context.ts";
import { interruptStaleRuns, tickJobs } from "../core/jobs/jobs.ts";

/** Starts the tick (after ending runs a previous process left running); returns a stop function. */
export function startJobScheduler(ctx: Ctx, opts: { everySec?: number } = {}): () => void {
  const stale = interruptStaleRuns(ctx);
  if (stale) ctx.log.info("job runs interrupted by the restart", { count: stale });
  const every = opts.everySec ?? 10;
  const job = new Cron(
    "* * * * * *",
    { interval: every, protect: true, catch: true, name: "staxa-jobs" },
    async () => void (await tickJobs(ctx)),
  );
  return () => job.stop();
}
