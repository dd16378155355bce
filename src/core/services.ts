// Services of a tenant as the API sees them: list, deploy one, deploy all (in priority order).
import type { Ctx } from "./context.ts";
import type { Principal } from "./principal.ts";
import * as tenants from "../store/tenants.ts";
import * as services from "../store/services.ts";
import type { DeploymentRow } from "../store/deployments.ts";
import type { ServiceRow } from "../store/services.ts";
import type { TenantRow } from "../store/tenants.ts";
import { assertDeployable, requestDeploy } from "./deployments.ts";

export function listServices(ctx: Ctx, p: Principal, tenantId: string): { tenant: TenantRow; services: ServiceRow[] } {
  const t = tenants.get(ctx.db, p, tenantId);
  return { tenant: t, services: services.list(ctx.db, t.id) };
}

export function deployService(ctx: Ctx, p: Principal, tenantId: string, name: string): DeploymentRow {
  const t = tenants.get(ctx.db, p, tenantId);
  assertDeployable(t);
  return requestDeploy(ctx, t, services.get(ctx.db, t.id, name), { trigger: "service" });
}

/** Queues every service, in priority order, in the tenant's lane (so they run one after another). */
export function deployAll(ctx: Ctx, p: Principal, tenantId: string): { tenant: TenantRow; deployments: DeploymentRow[] } {
  const t = tenants.get(ctx.db, p, tenantId);
  assertDeployable(t);
  const deps = services.list(ctx.db, t.id).map((s) => requestDeploy(ctx, t, s, { trigger: "api" }));
  return { tenant: tenants.get(ctx.db, p, t.id), deployments: deps };
}
