// Reconciliation (start-up and the periodic tick): observe Docker and Caddy, read what the store wants, plan the
// difference as data (reconcile-plan.ts) and apply it here, the one place that acts on it.
import type { Ctx } from "../context.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import * as deployments from "../../store/deployments.ts";
import * as replicas from "../../store/replicas.ts";
import { nowIso } from "../../lib/ids.ts";
import { routeBase } from "../domains/routes.ts";
import { portOf } from "./container-plan.ts";
import { redeployCurrent } from "./deployments.ts";
import { scheduleCleanup } from "./cleanup.ts";
import { describe } from "./pipeline.ts";
import { recoverSubnets } from "../network/subnets.ts";
import { INTERRUPTED, plan, type DesiredTenant, type Observed, type Step } from "./reconcile-plan.ts";
import { moveDeployment, moveTenant } from "./states.ts";
import { applyReplicaStep, isReplicaStep } from "./replica-steps.ts";
import { tenantOfRoute } from "../resources.ts";

export { INTERRUPTED };

/** Synchronous, store-only, before the API takes requests: no deployment stays "running" forever. */
export function failInterrupted(ctx: Ctx): number {
  const active = deployments.listActive(ctx.db);
  const now = nowIso();
  for (const d of active) {
    moveDeployment(ctx.db, d, "failed", { reason: INTERRUPTED, finished_at: now });
    ctx.bus.emit({
      tenantId: d.tenant_id,
      deploymentId: d.id,
      service: d.service_name,
      stage: "error",
      status: "failed",
      message: `Deployment ${d.id} ${INTERRUPTED}`,
      data: { failed_stage: d.status },
    });
  }
  return active.length;
}

export interface ReconcileReport {
  interrupted: number;
  kept: number;
  restored: string[];
  orphansRemoved: string[];
  routes: number;
  deletions: number;
}

/**
 * Tenants with a deployment still active: requested by this process (failInterrupted ended the earlier ones),
 * so work in progress that reconciliation leaves alone (containers and routes as they are).
 */
function busyTenants(ctx: Ctx, only?: string): Set<string> {
  return new Set(deployments.listActive(ctx.db, only).map((d) => d.tenant_id));
}

/**
 * What the store says should run: every tenant (or only `only`), its services' live containers and replicas,
 * ports and routes.
 */
export function desiredState(ctx: Ctx, only?: string): DesiredTenant[] {
  // One tenant's pass (a scale, a Swarm event) reads that tenant's rows only: its cost does not grow with tenants.
  const busy = busyTenants(ctx, only);
  const svcs = only ? services.list(ctx.db, only) : services.listAll(ctx.db);
  const byTenant = Map.groupBy(svcs, (s) => s.tenant_id);
  const extra = Map.groupBy(
    only ? svcs.flatMap((s) => replicas.list(ctx.db, s.id)) : replicas.listAll(ctx.db),
    (r) => r.service_id,
  );
  const rows = only ? [tenants.findById(ctx.db, only)].filter((t) => !!t) : tenants.listAll(ctx.db);
  return rows.map((t) => ({
    id: t.id,
    name: t.name,
    status: t.status,
    busy: busy.has(t.id),
    services: (byTenant.get(t.id) ?? []).map((s) => ({
      id: s.id,
      name: s.name,
      isPrimary: !!s.is_primary,
      containerId: s.container_id,
      ip: s.container_ip,
      port: portOf(t, s),
      route: s.is_routable ? routeBase(ctx, t, s) : null,
      replicas: ctx.runtime.cluster ? 1 : s.replicas, // a cluster engine runs the replicas of its one service itself
      extra: (extra.get(s.id) ?? []).map((r) => ({ slot: r.slot, containerId: r.container_id, ip: r.container_ip })),
      ...(ctx.runtime.cluster ? { tasks: s.replicas } : {}), // its tasks running, the tenant is ready; fewer, degraded
    })),
  }));
}

/** What runs: this engine's labelled containers (one Docker call) and Caddy's routes. Throws when either is down. */
export async function observedState(ctx: Ctx, withRoutes = true): Promise<Observed> {
  const [containers, routes] = await Promise.all([
    ctx.runtime.listContainers({ "staxa.managed": "1" }),
    withRoutes ? ctx.proxy.listRoutes() : [],
  ]);
  return {
    containers: observedContainers(containers),
    routes,
  };
}

/** What the planner sees of the engine's containers. A scheduled job's run belongs to its run (core/jobs), never an orphan here. */
function observedContainers(containers: Awaited<ReturnType<Ctx["runtime"]["listContainers"]>>): Observed["containers"] {
  return containers
    .filter((c) => !c.labels["staxa.job"])
    .map((c) => ({
      id: c.id,
      name: c.name,
      running: c.running,
      ip: c.ip,
      upstreams: c.upstreams,
      replicas: c.replicas,
      tenantId: c.labels["staxa.tenant_id"],
    }));
}

/**
 * Applies one step. A tenant that became busy since the plan was made is left to its deployment. Replica steps run
 * in the tenant's lane of the deploy queue: queued there (not awaited), unless `inLane` says this is that lane.
 */
export async function apply(ctx: Ctx, step: Step, inLane = false): Promise<void> {
  if (
    step.op !== "sync-routes" &&
    step.op !== "set-route" &&
    step.op !== "remove-route" &&
    deployments.listActive(ctx.db, step.tenantId).length
  )
    return;
  if (isReplicaStep(step)) {
    if (inLane) return applyReplicaStep(ctx, step);
    return void ctx.deployer.queue.enqueue(step.tenantId, () => applyReplicaStep(ctx, step));
  }
  switch (step.op) {
    case "set-route":
      return ctx.proxy.setRoute(step.route);
    case "remove-route":
      return ctx.proxy.removeRoute(step.id);
    case "sync-routes":
      return ctx.proxy.syncRoutes(step.routes);
    case "record-ip":
      return services.update(ctx.db, step.serviceId, { container_ip: step.ip, updated_at: nowIso() });
    case "scale-service": // the engine starts or stops tasks; the route follows them (route-follow.ts, the tick)
      return ctx.runtime.scaleService?.(step.id, step.replicas);
    case "remove-container":
      return ctx.runtime.stopAndRemove(step.id, 5);
    case "cleanup":
      return void scheduleCleanup(ctx, step.tenantId);
    case "tenant-status": {
      const t = tenants.findById(ctx.db, step.tenantId);
      return t && moveTenant(ctx.db, t, step.status, { status_reason: step.reason, updated_at: nowIso() });
    }
    case "restore": {
      const t = tenants.findById(ctx.db, step.tenantId);
      const s = services.findById(ctx.db, step.serviceId);
      if (t && s) redeployCurrent(ctx, t, s, "reconcile"); // the same image again, no build
      return;
    }
  }
}

/** The start-up pass. Throws (Upstream) when Docker or Caddy is down; the scheduler tries again. */
export async function reconcile(ctx: Ctx, interrupted = 0): Promise<ReconcileReport> {
  await recoverSubnets(ctx); // the subnet pool agrees again with the networks Docker has and the routes of the host
  // Caddy's routes are read only to keep those of tenants mid-deployment: at start-up its table may not exist yet.
  const observed = await observedState(ctx, busyTenants(ctx).size > 0);
  const desired = desiredState(ctx);
  const steps = plan(desired, observed, "startup");
  for (const s of steps) await apply(ctx, s);
  return report(steps, desired, interrupted);
}

/** The periodic pass: repairs what differs (routes, addresses, vanished containers), retries deletions. Never throws. */
export async function reconcileTick(ctx: Ctx): Promise<Step[]> {
  try {
    const observed = await observedState(ctx);
    // A tenant with work in its lane (a scale under way) is left to it, like one mid-deployment: a route planned
    // from before that work would undo it until the next tick.
    const desired = desiredState(ctx).map((t) => (ctx.deployer.queue.pending(t.id) ? { ...t, busy: true } : t));
    const steps = plan(desired, observed, "tick");
    const routeSteps = steps.filter((s) => s.op === "set-route" || s.op === "remove-route").length;
    if (routeSteps) ctx.log.warn("caddy routes differ from the store; re-asserting", { changed: routeSteps });
    for (const s of steps) await apply(ctx, s);
    return steps;
  } catch (e) {
    ctx.log.warn("reconcile tick failed", { error: describe(e) });
    return [];
  }
}

/**
 * One tenant's pass, in its lane of the deploy queue (after its deployments, never beside them): a scale, or a
 * replica to repair. Its containers (one Docker call filtered by its label) and its routes against its desired state.
 */
export function reconcileTenant(ctx: Ctx, tenantId: string): Promise<void> {
  return ctx.deployer.queue.enqueue(tenantId, () => replanTenant(ctx, tenantId, true));
}

/**
 * The same pass outside the lane, for a cluster engine's events (route-follow.ts): the engine reports where its
 * tasks run now, so a plan from that is never stale, and the route must not wait behind a deployment's tail (the
 * old service's removal takes seconds). A deployment still active keeps its tenant busy (its routes untouched),
 * and whatever is not a route or status step is queued in the lane as from the tick. Never throws.
 */
export async function replanTenant(ctx: Ctx, tenantId: string, inLane = false): Promise<void> {
  try {
    const desired = desiredState(ctx, tenantId);
    const name = desired[0]?.name;
    if (!name) return;
    const [containers, routes] = await Promise.all([
      ctx.runtime.listContainers({ "staxa.managed": "1", "staxa.tenant_id": tenantId }),
      ctx.proxy.listRoutes(),
    ]);
    const observed: Observed = {
      containers: observedContainers(containers),
      routes: routes.filter((r) => tenantOfRoute(r.id) === name),
    };
    for (const s of plan(desired, observed, "tick")) await apply(ctx, s, inLane);
  } catch (e) {
    ctx.log.warn("tenant reconcile failed", { tenant: tenantId, error: describe(e) });
  }
}

function report(steps: Step[], desired: DesiredTenant[], interrupted: number): ReconcileReport {
  const r: ReconcileReport = { interrupted, kept: 0, restored: [], orphansRemoved: [], routes: 0, deletions: 0 };
  const restored = new Set<string>();
  for (const s of steps) {
    if (s.op === "restore") {
      r.restored.push(s.label);
      restored.add(s.serviceId);
    }
    if (s.op === "remove-container") r.orphansRemoved.push(s.name);
    if (s.op === "cleanup") r.deletions++;
    if (s.op === "sync-routes") r.routes = s.routes.length;
  }
  for (const t of desired)
    if (!t.busy && t.status !== "deleting") r.kept += t.services.filter((s) => s.containerId && !restored.has(s.id)).length;
  return r;
}
