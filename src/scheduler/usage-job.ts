// croner job sampling tenants' live resource usage into ctx.usage every ctx.usage.everySec seconds.
import { Cron } from "croner";
import type { Ctx } from "../core/context.ts";
import { sampleUsage } from "../core/usage/sampler.ts";

/** Starts sampling (overlapping passes are skipped: protect); returns a stop function. */
export function startUsageSampler(ctx: Ctx): () => void {
  const job = new Cron(
    "* * * * * *",
    { interval: ctx.usage.everySec, protect: true, catch: true, name: "staxa-usage" },
    async () => {
      await sampleUsage(ctx).catch((e) => ctx.log.warn("usage sampling failed", { error: (e as Error).message }));
    },
  );
  return () => job.stop();
}
