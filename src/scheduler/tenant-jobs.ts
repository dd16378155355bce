// croner jobs of the pipeline: purge expired test-mode tenants, and the reconciliation tick.
import { Cron } from "croner";
import type { Ctx } from "../core/context.ts";
import * as tenants from "../store/tenants.ts";
import { nowIso } from "../lib/ids.ts";
import { startTenantDeletion } from "../core/deploy/cleanup.ts";
import { reconcileTick } from "../core/deploy/reconcile.ts";

/** Deletes test-mode tenants older than STAXA_TEST_TENANT_TTL_HOURS; returns their names. */
export function purgeExpiredTestTenants(ctx: Ctx): string[] {
  const before = nowIso(new Date(ctx.now().getTime() - ctx.config.testTenantTtlHours * 3_600_000));
  const expired = tenants.listExpiredTest(ctx.db, before);
  for (const t of expired) startTenantDeletion(ctx, t);
  if (expired.length) ctx.log.info("expired test tenants deleted", { count: expired.length });
  return expired.map((t) => t.name);
}

/** Starts the jobs; returns a function stopping them. */
export function startTenantJobs(ctx: Ctx): () => void {
  // The first tick one interval after start: the start-up pass does that work first.
  const every = ctx.config.reconcileEverySec;
  const jobs = [
    new Cron("*/5 * * * *", { protect: true, catch: true }, () => void purgeExpiredTestTenants(ctx)),
    new Cron(
      "* * * * * *",
      { interval: every, startAt: new Date(Date.now() + every * 1000), protect: true, catch: true },
      async () => void (await reconcileTick(ctx)),
    ),
  ];
  return () => jobs.forEach((j) => j.stop());
}
