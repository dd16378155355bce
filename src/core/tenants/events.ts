// What an SSE client of a tenant sees: which past events to replay, and when the story is over.
import type { Ctx } from "../context.ts";
import type { Principal } from "../identity/principal.ts";
import type { PipelineEvent } from "../../events/bus.ts";
import * as tenants from "../../store/tenants.ts";
import * as deployments from "../../store/deployments.ts";

/** Checks access; returns the tenant id to subscribe to. */
export function openEventStream(ctx: Ctx, p: Principal, tenantId: string): string {
  return tenants.get(ctx.db, p, tenantId).id;
}

/**
 * Events to send first: those after `lastEventId` when the client resumes; otherwise the events of
 * the current (or, when idle, the last) deployment, so a late subscriber still sees the whole run.
 */
export function replay(ctx: Ctx, tenantId: string, lastEventId: number | undefined): PipelineEvent[] {
  if (lastEventId !== undefined) return ctx.bus.since(tenantId, lastEventId);
  const active = deployments.listActive(ctx.db, tenantId)[0];
  const latest = active ?? deployments.list(ctx.db, tenantId, { limit: 1, offset: 0 }).rows[0];
  if (!latest) return ctx.bus.recent(tenantId, 50);
  const first = ctx.db
    .query<{ id: number }, [string, string]>("SELECT MIN(id) AS id FROM events WHERE tenant_id = ? AND deployment_id = ?")
    .get(tenantId, latest.id)?.id;
  return first ? ctx.bus.since(tenantId, first - 1) : ctx.bus.recent(tenantId, 50);
}

/** True when nothing is queued or running for the tenant (or it is gone): a stream may end. */
export function isSettled(ctx: Ctx, tenantId: string): boolean {
  const t = tenants.findById(ctx.db, tenantId);
  if (!t) return true;
  if (t.status === "deleting") return false;
  return deployments.listActive(ctx.db, tenantId).length === 0;
}

/** An event after which a non-following stream may close (if isSettled agrees). */
export function isTerminal(e: PipelineEvent): boolean {
  return e.stage === "ready" || (e.stage === "error" && !!e.deployment_id) || (e.stage === "delete" && e.status === "done");
}
