// croner jobs keeping the disk bounded: image retention and the build cache budget on
// STAXA_IMAGE_PRUNE_CRON, and the disk guard's look every minute (when low: prune what can go).
import { Cron } from "croner";
import type { Ctx } from "../core/context.ts";
import { imagesPass, watchDisk } from "../core/deploy/retention.ts";

/** Starts both jobs; returns a function stopping them. */
export function startImageJobs(ctx: Ctx): () => void {
  const log = (what: string) => (e: unknown) => ctx.log.warn(`${what} failed`, { error: (e as Error).message });
  const jobs = [
    new Cron(
      "0 * * * * *",
      { protect: true, catch: true, name: "staxa-disk-watch" },
      async () => void (await watchDisk(ctx).catch(log("disk watch"))),
    ),
  ];
  if (ctx.config.imagePruneCron) {
    jobs.push(
      new Cron(ctx.config.imagePruneCron, { protect: true, catch: true, name: "staxa-image-retention" }, async () => {
        const freed = await imagesPass(ctx).catch(log("image retention"));
        if (freed) ctx.log.info("build cache pruned", { freed_mb: Math.round(freed / 1024 / 1024) });
      }),
    );
  }
  return () => jobs.forEach((j) => j.stop());
}
