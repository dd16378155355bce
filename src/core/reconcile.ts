// Start-up (and periodic) reconciliation: bring Docker and Caddy back to what the store says.
// Interrupted deployments fail with a reason; healthy tenants are left alone (nothing redeployed).
import type { Ctx } from "./context.ts";
import type { Route } from "../proxy/types.ts";
import * as tenants from "../store/tenants.ts";
import * as services from "../store/services.ts";
import * as deployments from "../store/deployments.ts";
import { nowIso } from "../lib/ids.ts";
import { routeFor } from "./routes.ts";
import { tenantOfRoute } from "./resources.ts";
import { redeployCurrent } from "./deployments.ts";
import { scheduleCleanup } from "./tenant-cleanup.ts";
import { describe } from "./pipeline.ts";

export const INTERRUPTED = "interrupted by appliance restart";

/** Synchronous, store-only, before the API takes requests: no deployment stays "running" forever. */
export function failInterrupted(ctx: Ctx): number {
  const active = deployments.listActive(ctx.db);
  const now = nowIso();
  for (const d of active) {
    deployments.update(ctx.db, d.id, { status: "failed", reason: INTERRUPTED, finished_at: now });
    ctx.bus.emit({ tenantId: d.tenant_id, deploymentId: d.id, service: d.service_name, stage: "error", status: "failed", message: `Deployment ${d.id} ${INTERRUPTED}`, data: { failed_stage: d.status } });
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
 * Tenants with a deployment still active: requested by this process (failInterrupted ended the earlier
 * ones), so its work in progress, which reconciliation leaves alone (containers and routes as they are).
 */
function busyTenants(ctx: Ctx): { ids: Set<string>; names: Set<string> } {
  const ids = new Set(deployments.listActive(ctx.db).map((d) => d.tenant_id));
  const names = new Set<string>();
  for (const id of ids) {
    const t = tenants.findById(ctx.db, id);
    if (t) names.add(t.name);
  }
  return { ids, names };
}

/** The whole pass. Throws (Upstream) when Docker or Caddy is down; the scheduler tries again. */
export async function reconcile(ctx: Ctx, interrupted = 0): Promise<ReconcileReport> {
  const report: ReconcileReport = { interrupted, kept: 0, restored: [], orphansRemoved: [], routes: 0, deletions: 0 };
  const all = tenants.listAll(ctx.db);
  const { ids: busy, names: busyNames } = busyTenants(ctx);
  const routes: Route[] = busy.size ? (await ctx.proxy.listRoutes()).filter((r) => busyNames.has(tenantOfRoute(r.id))) : [];
  const live = new Set<string>();
  for (const t of all) {
    if (busy.has(t.id)) continue;
    if (t.status === "deleting") {
      report.deletions++;
      void scheduleCleanup(ctx, t.id);
      continue;
    }
    let serving = false;
    for (const s of services.list(ctx.db, t.id)) {
      if (!s.container_id) continue;
      const info = await ctx.runtime.inspectContainer(s.container_id); // throws when Docker is down: never read as "gone"
      if (info?.running) {
        live.add(info.id);
        report.kept++;
        if (s.is_primary) serving = true;
        if (info.ip && info.ip !== s.container_ip) services.update(ctx.db, s.id, { container_ip: info.ip, updated_at: nowIso() });
        const port = deployedPort(ctx, t.id, s);
        if (s.is_routable && info.ip && port) routes.push(routeFor(ctx, t, s, `${info.ip}:${port}`));
      } else {
        // The container that should serve is gone or stopped: start the same image again (no build).
        if (info) live.add(info.id);
        report.restored.push(`${t.name}.${s.name}`);
        redeployCurrent(ctx, t, s, "reconcile");
      }
    }
    if (t.status === "deploying" || t.status === "provisioning") {
      tenants.update(ctx.db, t.id, serving ? { status: "ready", status_reason: null, updated_at: nowIso() } : { status: "failed", status_reason: INTERRUPTED, updated_at: nowIso() });
    }
  }
  const known = new Set(all.map((t) => t.id));
  for (const c of await ctx.runtime.listContainers({ "staxa.managed": "1" })) {
    // Only containers of tenants in THIS store: another appliance may share the Docker engine.
    const owner = c.labels["staxa.tenant_id"];
    if (known.has(owner) && !busy.has(owner) && !live.has(c.id) && !isDeletingTenant(all, owner)) {
      await ctx.runtime.stopAndRemove(c.id, 5);
      report.orphansRemoved.push(c.name);
    }
  }
  await ctx.proxy.syncRoutes(routes);
  report.routes = routes.length;
  return report;
}

function isDeletingTenant(all: tenants.TenantRow[], id: string): boolean {
  return all.some((t) => t.id === id && t.status === "deleting");
}

/** The port the live container was deployed with (tenant/service settings at deploy time). */
function deployedPort(ctx: Ctx, tenantId: string, s: services.ServiceRow): number | null {
  const t = tenants.findById(ctx.db, tenantId);
  return s.port ?? (s.is_primary ? t?.app_port ?? null : null) ?? 3000;
}

/** Periodic check: routes equal the store, interrupted deletions retried. Never throws. */
export async function reconcileTick(ctx: Ctx): Promise<void> {
  try {
    // A tenant mid-deployment is left alone: its route switches before the store records the new container,
    // so the store's view would put the old upstream back just before drain removes that container.
    const { ids: busy, names: busyNames } = busyTenants(ctx);
    const want: Route[] = [];
    for (const s of services.listRunning(ctx.db)) {
      const t = tenants.findById(ctx.db, s.tenant_id);
      if (!t || busy.has(t.id) || t.status === "deleting" || !s.is_routable || !s.container_ip) continue;
      want.push(routeFor(ctx, t, s, `${s.container_ip}:${deployedPort(ctx, t.id, s)}`));
    }
    const have = (await ctx.proxy.listRoutes()).filter((r) => !busyNames.has(tenantOfRoute(r.id)));
    const key = (r: Route) => `${r.id}|${r.upstream}|${[...r.hosts].sort().join(",")}`;
    const haveKeys = new Set(have.map(key));
    const wantIds = new Set(want.map((r) => r.id));
    const stale = want.filter((r) => !haveKeys.has(key(r)));
    const extra = have.filter((r) => !wantIds.has(r.id));
    if (stale.length || extra.length) {
      ctx.log.warn("caddy routes differ from the store; re-asserting", { set: stale.length, removed: extra.length });
      for (const r of stale) await ctx.proxy.setRoute(r);
      for (const r of extra) await ctx.proxy.removeRoute(r.id);
    }
    for (const t of tenants.listAll(ctx.db)) if (t.status === "deleting") void scheduleCleanup(ctx, t.id);
  } catch (e) {
    ctx.log.warn("reconcile tick failed", { error: describe(e) });
  }
}
