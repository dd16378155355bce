// Names and shapes derived from a tenant: Docker names, labels, route ids, URLs, resource tiers.
import type { Config } from "../config.ts";
export { RESOURCE_SIZES, type ResourceSize } from "../runtime/container-spec.ts";

/** `staxa-<tenant>`: the tenant's own bridge network. */
export function networkName(tenant: string): string {
  return `staxa-${tenant}`;
}

export { containerName } from "../runtime/container-spec.ts";

/** Local tag of a built image; the deployment id keeps every build addressable for rollback. */
export function imageTag(tenant: string, service: string, deploymentId: string): string {
  return `staxa/${tenant}-${service}:${deploymentId.replace(/^dep_/, "")}`;
}

/** Labels tying Docker objects to the store; reconciliation trusts only `staxa.managed`. */
export function labels(tenant: { id: string; name: string }, service?: string, deploymentId?: string): Record<string, string> {
  const l: Record<string, string> = { "staxa.managed": "1", "staxa.tenant": tenant.name, "staxa.tenant_id": tenant.id };
  if (service) l["staxa.service"] = service;
  if (deploymentId) l["staxa.deployment"] = deploymentId;
  return l;
}

/** `<tenant>.<service>`: the Caddy @id of a service's route. */
export function routeId(tenant: string, service: string): string {
  return `${tenant}.${service}`;
}

/** The tenant name of a route's @id (tenant names are DNS labels: no dot). */
export function tenantOfRoute(id: string): string {
  return id.split(".", 1)[0]!;
}

/** Host a routable service answers on: the tenant host for the primary, `<service>-<tenant>.<base>` otherwise. */
export function serviceHost(config: Config, tenant: string, service: { name: string; is_primary: number }): string {
  return service.is_primary ? `${tenant}.${config.baseDomain}` : `${service.name}-${tenant}.${config.baseDomain}`;
}

/** Public URL of a tenant; the port is shown when Caddy does not listen on the scheme's default. */
export function tenantUrl(config: Config, tenant: string): string {
  const port = config.publicScheme === "https" ? config.httpsPort : config.httpPort;
  const dflt = config.publicScheme === "https" ? 443 : 80;
  return `${config.publicScheme}://${tenant}.${config.baseDomain}${port === dflt ? "" : `:${port}`}`;
}

export function eventsUrl(tenantId: string): string {
  return `/api/v1/tenants/${tenantId}/events`;
}

export function buildLogUrl(tenantId: string, deploymentId: string): string {
  return `/api/v1/tenants/${tenantId}/deployments/${deploymentId}/logs`;
}
