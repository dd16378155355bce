// croner job expiring network rules whose ttl_hours ran out (the clock is ctx.now, so tests can advance it).
import { Cron } from "croner";
import type { Ctx } from "../core/context.ts";
import { expireDueRules } from "../core/network/rules.ts";

/** Every 10 s: a rule stops admitting traffic within seconds of its expires_at. Returns a stop function. */
export function startNetworkRuleExpiry(ctx: Ctx): () => void {
  const job = new Cron("*/10 * * * * *", { protect: true, catch: true, name: "staxa-network-rule-expiry" }, () => tick(ctx));
  return () => job.stop();
}

/** One run; failures are logged by expireDueRules and retried next time, never fatal. */
async function tick(ctx: Ctx): Promise<void> {
  const expired = await expireDueRules(ctx);
  if (expired.length) ctx.log.info("network rules expired", { count: expired.length, ids: expired });
}
