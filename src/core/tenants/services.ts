// Services of a tenant as the API sees them: list, add (deployed at once), remove, deploy one, deploy all.
import type { Ctx } from "../context.ts";
import type { Principal } from "../identity/principal.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import * as deployments from "../../store/deployments.ts";
import type { DeploymentRow } from "../../store/deployments.ts";
import type { ServiceRow } from "../../store/services.ts";
import type { TenantRow } from "../../store/tenants.ts";
import { nowIso } from "../../lib/ids.ts";
import { Conflict, Invalid, Unprocessable } from "../../lib/errors.ts";
import { assertDeployable, requestDeploy } from "../deploy/deployments.ts";
import { deployGroup, dependsOn } from "../deploy/group.ts";
import { assertHostFits, parseService, replicaCount } from "./service-input.ts";
import { sealEnv } from "../env-vars.ts";
import { routeId } from "../resources.ts";
import { removeServiceVolumes } from "../deploy/volumes.ts";
import { moveDeployment, moveService } from "../deploy/states.ts";
import { removeBuiltImages } from "../deploy/retention.ts";
import { applyDomainRoute } from "../domains/domains.ts";
import { reapplyTenantRules } from "../network/enforcement.ts";
import * as input from "../input.ts";
import { mountsOf } from "../deploy/volumes.ts";
import { reconcileTenant } from "../deploy/reconcile.ts";

type Body = Record<string, unknown>;
export const MAX_SERVICES = 20;

export function listServices(ctx: Ctx, p: Principal, tenantId: string): { tenant: TenantRow; services: ServiceRow[] } {
  const t = tenants.get(ctx.db, p, tenantId);
  return { tenant: t, services: services.list(ctx.db, t.id) };
}

/** POST /services: validated like a services[] entry (400), name free (409), tenant deployable (422); then deployed. */
export function addService(
  ctx: Ctx,
  p: Principal,
  tenantId: string,
  b: Body,
): { service: ServiceRow; deployment: DeploymentRow } {
  const t = tenants.get(ctx.db, p, tenantId);
  if (b.source_type === undefined) throw new Invalid("source_type", "source_type is required");
  const name = input.serviceName(b.name, "name");
  const d = parseService(ctx.config, b, {
    tenant: t.name,
    name,
    prefix: "",
    portField: "port",
    defaults: { routable: false, primary: false, size: t.resource_size },
  });
  if (d.row.is_primary)
    throw new Invalid("is_primary", "The tenant already has a primary service; an added service cannot be primary");
  assertHostFits(t.name, d.row, "name");
  const existing = services.list(ctx.db, t.id);
  d.dependsOn.forEach((dep, j) => {
    if (!existing.some((s) => s.name === dep)) throw new Invalid(`depends_on[${j}]`, `depends_on names unknown service "${dep}"`);
  });
  if (existing.some((s) => s.name === name))
    throw new Conflict(`Service "${name}" already exists in this tenant`, { field: "name" }, "service_exists");
  assertDeployable(t);
  if (existing.length >= MAX_SERVICES)
    throw new Unprocessable("service_limit_reached", `At most ${MAX_SERVICES} services per tenant`, { limit: MAX_SERVICES });
  assertHostsFree(ctx, t.name, [d.row]);
  const now = nowIso();
  const row: ServiceRow = { ...d.row, tenant_id: t.id, env_enc: sealEnv(ctx.box, d.env), created_at: now, updated_at: now };
  let dep!: DeploymentRow;
  try {
    ctx.db.transaction(() => {
      services.insert(ctx.db, row);
      dep = requestDeploy(ctx, t, row, { trigger: "service" });
    })();
  } catch (e) {
    if (String((e as Error).message).includes("UNIQUE"))
      throw new Conflict(`Service "${name}" already exists in this tenant`, { field: "name" }, "service_exists");
    throw e;
  }
  return { service: row, deployment: dep };
}

/**
 * Hosts must not overlap across tenants: tenant "api-acme" and service "api" of tenant "acme" would both be
 * `api-acme.<base>`. Checked both ways: a new tenant's name, and a new routable service's host label.
 */
export function assertHostsFree(
  ctx: Ctx,
  tenantName: string,
  svcs: Array<{ name: string; is_routable: number; is_primary: number }>,
  checkTenantName = false,
): void {
  for (const s of svcs) {
    if (!s.is_routable || s.is_primary) continue;
    if (tenants.findByName(ctx.db, `${s.name}-${tenantName}`))
      throw new Conflict(`The host ${s.name}-${tenantName} is already a tenant's name`, { field: "name" }, "host_taken");
  }
  if (!checkTenantName) return;
  for (let i = tenantName.indexOf("-"); i > 0; i = tenantName.indexOf("-", i + 1)) {
    const owner = tenants.findByName(ctx.db, tenantName.slice(i + 1));
    const svc = owner && services.find(ctx.db, owner.id, tenantName.slice(0, i));
    if (svc?.is_routable && !svc.is_primary)
      throw new Conflict(`Tenant name "${tenantName}" is the host of another tenant's service`, { field: "name" }, "name_taken");
  }
}

/**
 * DELETE /services/{name}: never the primary (400); not while a deployment of it runs or another service
 * depends on it (409). Its queued deployments fail, then route, containers, volumes and images go, then the row.
 */
export async function removeService(ctx: Ctx, p: Principal, tenantId: string, name: string): Promise<void> {
  const t = tenants.get(ctx.db, p, tenantId);
  const svc = services.get(ctx.db, t.id, name);
  if (svc.is_primary) throw new Invalid("name", "Cannot remove the primary service");
  const dependents = services
    .list(ctx.db, t.id)
    .filter((s) => s.id !== svc.id && dependsOn(s).includes(name))
    .map((s) => s.name);
  if (dependents.length)
    throw new Conflict(
      `Service "${name}" is needed by: ${dependents.join(", ")}`,
      { field: "name", dependents },
      "service_in_use",
    );
  const active = deployments.listActive(ctx.db, t.id).filter((d) => d.service_id === svc.id);
  if (active.some((d) => d.status !== "queued"))
    throw new Conflict(
      `A deployment of "${name}" is in progress; remove the service when it has finished`,
      { deployment_id: active[0].id },
      "deployment_in_progress",
    );
  const now = nowIso();
  ctx.db.transaction(() => {
    for (const d of active) moveDeployment(ctx.db, d, "failed", { reason: "service removed", finished_at: now });
    moveService(ctx.db, svc, "removing", { updated_at: now });
  })();
  ctx.bus.emit({ tenantId: t.id, service: name, stage: "info", status: "running", message: `Removing service ${name}` });
  if (svc.is_routable) await ctx.proxy.removeRoute(routeId(t.name, name));
  for (const c of await ctx.runtime.listContainers({ "staxa.tenant_id": t.id, "staxa.service": name }))
    await ctx.runtime.stopAndRemove(c.id, 5);
  await removeServiceVolumes(ctx, svc);
  await removeBuiltImages(ctx, t, [svc]).catch((e) =>
    ctx.log.warn("images of a removed service not removed", { service: name, error: (e as Error).message }),
  );
  services.remove(ctx.db, svc.id); // deployments cascade; custom domains fall back to the primary (SET NULL)
  await applyDomainRoute(ctx, t, services.primary(ctx.db, t.id));
  await reapplyTenantRules(ctx, t.id);
  ctx.bus.emit({ tenantId: t.id, service: name, stage: "info", status: "done", message: `Service ${name} removed` });
}

/**
 * PATCH /services/{name} {replicas}: scales without a rebuild. The count is stored (the desired state), then the
 * tenant's lane converges on it: new replicas from the live image and port, removed ones out of the route first.
 */
export function updateService(ctx: Ctx, p: Principal, tenantId: string, name: string, b: Body): ServiceRow {
  const t = tenants.get(ctx.db, p, tenantId);
  assertDeployable(t);
  const svc = services.get(ctx.db, t.id, name);
  if (svc.status === "removing") throw new Unprocessable("service_removing", `Service "${name}" is being removed`);
  if (b.replicas === undefined) throw new Invalid("replicas", "replicas is required");
  const replicas = replicaCount(ctx.config, b.replicas, "replicas", mountsOf(svc).length > 0);
  services.update(ctx.db, svc.id, { replicas, updated_at: nowIso() });
  void reconcileTenant(ctx, t.id);
  return services.get(ctx.db, t.id, name);
}

export function deployService(ctx: Ctx, p: Principal, tenantId: string, name: string): DeploymentRow {
  const t = tenants.get(ctx.db, p, tenantId);
  assertDeployable(t);
  const svc = services.get(ctx.db, t.id, name);
  if (svc.status === "removing") throw new Unprocessable("service_removing", `Service "${name}" is being removed`);
  return requestDeploy(ctx, t, svc, { trigger: "service" });
}

/** Every service, in deploy order (dependencies and stateful first), one healthy before the next; a failure stops the rest. */
export function deployAll(ctx: Ctx, p: Principal, tenantId: string): { tenant: TenantRow; deployments: DeploymentRow[] } {
  const t = tenants.get(ctx.db, p, tenantId);
  assertDeployable(t);
  const svcs = services.list(ctx.db, t.id).filter((s) => s.status !== "removing");
  const deps = deployGroup(ctx, t, svcs, { trigger: "api" });
  return { tenant: tenants.get(ctx.db, p, t.id), deployments: deps };
}
