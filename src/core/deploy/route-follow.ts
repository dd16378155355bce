// Routes that follow Swarm's tasks within seconds (swarm engine): an event of the manager (a node down or drained, a
// service changed, a task's container started or died) re-plans the affected tenants through the one planner
// (replanTenant, not queued behind the tenant's lane), instead of waiting for the next reconciliation tick. Swarm shuts a lost node's tasks down when it
// marks the node down (they leave the route at once) and starts their replacements a few seconds later, with no
// event for that: so each tenant is re-planned in a short burst after its latest event.
import Docker from "dockerode";
import type { Ctx } from "../context.ts";
import { replanTenant } from "./reconcile.ts";
import { eventTarget, tenantsOf, watchEvents, type DockerEvent, type EventTarget } from "../../runtime/swarm-events.ts";
import { describe } from "./pipeline.ts";

/** Seconds after a tenant's latest event at which its routes are re-planned (replacement tasks take a few). */
export const FOLLOW_UP_SEC = [0, 1, 2, 3, 4, 6, 8, 10, 13, 16, 20, 25, 30];

/**
 * Per-tenant bursts of re-plans: a new event restarts the tenant's burst; a re-plan already waiting in the
 * tenant's lane is not queued twice (it reads the cluster when it runs).
 */
export function createFollower(
  replan: (tenantId: string) => Promise<void>,
  timers: { set: (fn: () => void, ms: number) => unknown; clear: (h: unknown) => void } = {
    set: (fn, ms) => setTimeout(fn, ms),
    clear: (h) => clearTimeout(h as Timer),
  },
) {
  const bursts = new Map<string, unknown[]>();
  const waiting = new Set<string>();
  const run = (tenantId: string) => {
    if (waiting.has(tenantId)) return;
    waiting.add(tenantId);
    void replan(tenantId).finally(() => waiting.delete(tenantId));
  };
  return {
    touch(tenantId: string) {
      for (const h of bursts.get(tenantId) ?? []) timers.clear(h);
      const hs = FOLLOW_UP_SEC.map((s, i) =>
        timers.set(() => {
          run(tenantId);
          if (i === FOLLOW_UP_SEC.length - 1) bursts.delete(tenantId);
        }, s * 1000),
      );
      bursts.set(tenantId, hs);
    },
    stop() {
      for (const hs of bursts.values()) for (const h of hs) timers.clear(h);
      bursts.clear();
    },
  };
}

/** Starts the follower on the swarm engine (a no-op on one host, where the tick and the pipeline suffice). */
export function startRouteFollower(ctx: Ctx): () => void {
  if (ctx.config.engine !== "swarm") return () => {};
  const docker = new Docker({ socketPath: ctx.config.dockerSocket });
  // Outside the tenant's lane: a deployment's tail (the old service's removal) must not hold the route back.
  const follower = createFollower((id) => replanTenant(ctx, id));
  const resolve = async (t: EventTarget) => {
    try {
      const ids = await tenantsOf(docker, t);
      if (ids.length) ctx.log.debug("swarm event: re-planning tenants", { target: t, tenants: ids });
      for (const id of ids) follower.touch(id);
    } catch (e) {
      ctx.log.warn("swarm event not resolved to tenants; the tick will follow", { error: describe(e) });
    }
  };
  const stopWatch = watchEvents(
    docker,
    (e: DockerEvent) => {
      const t = eventTarget(e);
      if (t) void resolve(t);
    },
    (e) => ctx.log.warn("swarm events stream", { error: describe(e) }),
  );
  return () => {
    stopWatch();
    follower.stop();
  };
}
