// Deleting a tenant: stop taking work, cancel what runs, then remove containers, routes, network,
// volumes and images — and only then the row, which frees the name.
import type { Ctx } from "../context.ts";
import type { TenantRow } from "../../store/tenants.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import * as deployments from "../../store/deployments.ts";
import * as events from "../../store/events.ts";
import { nowIso } from "../../lib/ids.ts";
import { cancelTenantWork } from "./deployer.ts";
import { removeServiceVolumes } from "./volumes.ts";
import { moveDeployment, moveTenant } from "./states.ts";
import { networkName, routeId } from "../resources.ts";
import { removeTenantRules } from "../network/enforcement.ts";
import { removeBuiltImages } from "./retention.ts";
import { removeTenantBackups } from "../backups/files.ts";

/** Marks the tenant deleting, fails its queued deployments, and schedules the cleanup in its lane. */
export function startTenantDeletion(ctx: Ctx, t: TenantRow): void {
  const now = nowIso();
  ctx.db.transaction(() => {
    moveTenant(ctx.db, t, "deleting", { status_reason: null, updated_at: now });
    for (const d of deployments.listActive(ctx.db, t.id)) {
      if (d.status === "queued") moveDeployment(ctx.db, d, "failed", { reason: "tenant deleted", finished_at: now });
    }
  })();
  ctx.bus.emit({ tenantId: t.id, stage: "delete", status: "running", message: `Deleting tenant ${t.name}` });
  cancelTenantWork(ctx, t.id, "tenant deleted");
  scheduleCleanup(ctx, t.id);
}

/** Queues the cleanup (also used by the scheduler to retry a deletion that Docker or Caddy interrupted). */
export function scheduleCleanup(ctx: Ctx, tenantId: string): Promise<void> {
  return ctx.deployer.queue.enqueue(tenantId, () => cleanupTenant(ctx, tenantId));
}

/** Removes everything of a deleting tenant; on an outside failure the tenant stays `deleting` with the reason. */
export async function cleanupTenant(ctx: Ctx, tenantId: string): Promise<void> {
  const t = tenants.findById(ctx.db, tenantId);
  if (!t || t.status !== "deleting") return;
  ctx.deployer.controllers.delete(tenantId);
  const svcs = services.list(ctx.db, t.id);
  try {
    for (const s of svcs) await ctx.proxy.removeRoute(routeId(t.name, s.name));
    await removeTenantRules(ctx, t); // no inbound port may keep forwarding to an IP a later container reuses
    for (const c of await ctx.runtime.listContainers({ "staxa.tenant_id": t.id })) await ctx.runtime.stopAndRemove(c.id, 5);
    await ctx.runtime.removeNetwork(networkName(t.name));
    for (const s of svcs) await removeServiceVolumes(ctx, s);
    await removeBuiltImages(ctx, t, svcs); // every tag its deployments built, stage tags too; pulled images may be shared
    removeTenantBackups(ctx, t.id); // its volume backups go with it (the rows go with the tenant row)
  } catch (e) {
    const reason = `cleanup interrupted, will retry: ${(e as Error).message}`;
    tenants.update(ctx.db, t.id, { status_reason: reason, updated_at: nowIso() });
    ctx.bus.emit({ tenantId: t.id, stage: "error", status: "failed", message: reason });
    return;
  }
  ctx.bus.emit({ tenantId: t.id, stage: "delete", status: "done", message: `Tenant ${t.name} deleted` });
  ctx.db.transaction(() => {
    tenants.remove(ctx.db, t.id);
    events.removeForTenant(ctx.db, t.id);
  })();
  ctx.bus.notify({ event: "tenant.deleted", provider_id: t.provider_id, mode: t.mode, tenant_id: t.id, data: { name: t.name } });
}
