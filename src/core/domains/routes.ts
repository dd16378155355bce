// The Caddy route of a service: a pure function of the tenant, the service and the upstream.
import type { Ctx } from "../context.ts";
import type { Route } from "../../proxy/types.ts";
import type { TenantRow } from "../../store/tenants.ts";
import type { ServiceRow } from "../../store/services.ts";
import { routeId, serviceHost } from "../resources.ts";
import { domainHosts } from "./tls.ts";

/** Hosts a service answers on: its own, plus the verified custom domains routed to it. */
export function routeHosts(ctx: Ctx, tenant: TenantRow, service: ServiceRow): string[] {
  return [serviceHost(ctx.config, tenant.name, service), ...domainHosts(ctx, tenant.id, service)];
}

/** Everything of a service's route but the upstream, which is wherever its live container answers. */
export function routeBase(ctx: Ctx, tenant: TenantRow, service: ServiceRow): Omit<Route, "upstream"> {
  return {
    id: routeId(tenant.name, service.name),
    hosts: routeHosts(ctx, tenant, service),
    tls: ctx.config.publicScheme === "https",
  };
}

/** The route to `upstream`, or to every replica of `upstream` when it is a list (requests are spread over them). */
export function routeFor(ctx: Ctx, tenant: TenantRow, service: ServiceRow, upstream: string | string[]): Route {
  const all = typeof upstream === "string" ? [upstream] : upstream;
  return { ...routeBase(ctx, tenant, service), upstream: all[0]!, ...(all.length > 1 ? { upstreams: all } : {}) };
}
