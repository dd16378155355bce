// A deployment of a service with several replicas, one replica at a time: the new replica 1 (the pipeline's
// candidate) takes the place of the old one in the route, then for each further slot a new replica starts, passes
// the health check, replaces the old one of its slot in the route, and the old one is drained and stopped. At every
// moment the route holds only healthy containers, so no request fails; at most one container more than `replicas` runs.
import type { ContainerInfo } from "../../runtime/types.ts";
import * as replicas from "../../store/replicas.ts";
import type { Run } from "./finish.ts";
import { drain, liveMembers, routeTo, startReplica, type Member } from "./replicas.ts";
import { applyReplicaStep } from "./replica-steps.ts";
import { routeId } from "../resources.ts";

export interface Rolling {
  /** The replicas serving when the deployment began, by slot (slot 1 is retired by the pipeline itself). */
  olds: Map<number, Member>;
  /** New replicas started so far, by slot. */
  news: Map<number, { id: string; ip: string | null; upstream: string | null }>;
  /** Old replicas already stopped. */
  retired: Set<number>;
  want: number;
}

/** The old replicas as the store records them before the switch. */
export function beginRolling(run: Run): Rolling {
  const want = run.service.replicas ?? 1;
  const olds = new Map(liveMembers(run.ctx, run.tenant, run.service).map((m) => [m.slot, m]));
  return { olds, news: new Map(), retired: new Set(), want };
}

/** The route while rolling: slot by slot, the new replica once healthy, else the old one still serving. */
export function rollingUpstreams(r: Rolling): string[] {
  const out: string[] = [];
  for (let slot = 1; slot <= r.want; slot++) {
    const up = r.news.get(slot)?.upstream ?? (r.retired.has(slot) ? null : r.olds.get(slot)?.upstream);
    if (up) out.push(up);
  }
  return out;
}

/** The new replica 1 is healthy at `upstream`: it joins the route in place of the old one. */
export function firstReplica(r: Rolling, c: ContainerInfo, port: number): void {
  r.news.set(1, { id: c.id, ip: c.ip, upstream: c.ip ? `${c.ip}:${port}` : null });
}

/**
 * Slots 2..replicas, one at a time; then old replicas above the count go. Throws when a new replica is not
 * healthy, after putting the route back on the old version (see `abandon`).
 */
export async function rollReplicas(run: Run, r: Rolling, image: string, port: number): Promise<void> {
  const { ctx, tenant, service, dep } = run;
  for (let slot = 2; slot <= r.want; slot++) {
    let c: ContainerInfo;
    try {
      c = await startReplica(ctx, { tenant, service, deploymentId: dep.id, image, port, slot, signal: run.signal });
    } catch (e) {
      await abandon(run, r);
      throw e;
    }
    r.news.set(slot, { id: c.id, ip: c.ip, upstream: c.ip ? `${c.ip}:${port}` : null });
    await routeTo(ctx, tenant, service, rollingUpstreams(r));
    const old = r.olds.get(slot);
    if (old) {
      await drain(ctx);
      await ctx.runtime.stopAndRemove(old.containerId, 10);
      r.retired.add(slot);
    }
  }
  for (const [slot, old] of r.olds) {
    if (slot <= r.want) continue;
    await drain(ctx); // left out of the route since the first switch
    await ctx.runtime.stopAndRemove(old.containerId, 10);
    r.retired.add(slot);
  }
}

/** Records the new replicas 2..n once the new replica 1 is the service's live container (makeLive). */
export function recordReplicas(run: Run, r: Rolling): void {
  const rows = [...r.news]
    .filter(([slot]) => slot > 1)
    .map(([slot, n]) => ({ service_id: run.service.id, slot, container_id: n.id, container_ip: n.ip }));
  if (rows.length || r.olds.size > 1) replicas.replaceAll(run.ctx.db, run.service.id, rows); // a one-replica service writes nothing
}

/**
 * A new replica failed: the route goes back to the old replicas still running (replica 1 always is), the new
 * ones are stopped (replica 1 by the pipeline), and the slots whose old replica was already stopped start again
 * from the old image once this deployment has ended (the tenant's lane runs them next).
 */
async function abandon(run: Run, r: Rolling): Promise<void> {
  const { ctx, tenant, service } = run;
  const back = [...r.olds.values()].filter((m) => m.slot <= r.want && !r.retired.has(m.slot)).map((m) => m.upstream);
  // No old version (a first deployment): the route goes with the new replicas.
  const restore = back.some(Boolean)
    ? routeTo(ctx, tenant, service, back)
    : service.is_routable
      ? ctx.proxy.removeRoute(routeId(tenant.name, service.name))
      : undefined;
  await restore?.catch((e) => ctx.log.warn("route not restored", { error: String(e) }));
  for (const [slot, n] of r.news) if (slot > 1) await ctx.runtime.stopAndRemove(n.id, 0).catch(() => undefined);
  for (const slot of r.retired) {
    const old = r.olds.get(slot)!;
    replicas.remove(ctx.db, service.id, slot, old.containerId);
    void ctx.deployer.queue.enqueue(tenant.id, () =>
      applyReplicaStep(ctx, { op: "start-replica", tenantId: tenant.id, serviceId: service.id, slot }),
    );
  }
}
