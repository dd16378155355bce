// croner job of pull request previews: every minute, delete the stale ones (by ctx.now, so tests can advance it).
import { Cron } from "croner";
import type { Ctx } from "../core/context.ts";
import { sweepPreviews } from "../core/previews/expiry.ts";

/** Starts the sweep; returns a stop function. */
export function startPreviewExpiry(ctx: Ctx): () => void {
  const job = new Cron(
    "0 * * * * *",
    { protect: true, catch: true, name: "staxa-preview-expiry" },
    () => void sweepPreviews(ctx),
  );
  return () => job.stop();
}
