// Container logs of a tenant's service (its live container), tail or follow.
import type { Ctx } from "../context.ts";
import type { Principal } from "../identity/principal.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import { Invalid } from "../../lib/errors.ts";

export const MAX_LOG_LINES = 10_000;

/** Lines of the live container of `service` (default: the primary); empty when none runs. */
export function containerLogs(
  ctx: Ctx,
  p: Principal,
  tenantId: string,
  o: { lines: number; follow: boolean; signal: AbortSignal; service?: string },
): AsyncIterable<string> {
  if (!Number.isInteger(o.lines) || o.lines < 1 || o.lines > MAX_LOG_LINES)
    throw new Invalid("lines", `lines must be an integer between 1 and ${MAX_LOG_LINES}`);
  const t = tenants.get(ctx.db, p, tenantId);
  const svc = o.service ? services.get(ctx.db, t.id, o.service) : services.primary(ctx.db, t.id);
  if (!svc?.container_id) return (async function* () {})();
  return ctx.runtime.logs(svc.container_id, { tail: o.lines, follow: o.follow, signal: o.signal });
}
