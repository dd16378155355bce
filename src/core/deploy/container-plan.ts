// The ContainerSpec of a service's candidate container, from the store rows (the pure builder lives in runtime).
import type { ContainerSpec } from "../../runtime/types.ts";
import { containerSpec, type ResourceSize } from "../../runtime/container-spec.ts";
import type { TenantRow } from "../../store/tenants.ts";
import type { ServiceRow } from "../../store/services.ts";
import { networkName } from "../resources.ts";
import { mountsOf } from "./volumes.ts";

/** Port a new container of the service listens on: the request's, else the build plan's (detected), else 3000. */
export function servicePort(tenant: TenantRow, service: ServiceRow, planned?: number): number {
  return service.port ?? (service.is_primary ? tenant.app_port : null) ?? planned ?? 3000;
}

/**
 * Port the service's live container answers on: the one recorded when it went live (makeLive), so that routing,
 * reconciliation and network rules never recompute it without the build plan that chose it.
 */
export function portOf(tenant: TenantRow, service: ServiceRow): number {
  return service.live_port ?? servicePort(tenant, service);
}

export function candidateSpec(c: {
  tenant: TenantRow;
  service: ServiceRow;
  deploymentId: string;
  image: string;
  env: Record<string, string>;
  port: number;
}): ContainerSpec {
  const spec = containerSpec({
    tenant: c.tenant.name,
    service: c.service.name,
    deploymentId: c.deploymentId,
    image: c.image,
    env: c.env,
    port: c.port,
    resourceSize: (c.service.resource_size || c.tenant.resource_size) as ResourceSize,
    network: networkName(c.tenant.name),
    volumes: mountsOf(c.service),
    cmd: c.service.command ? JSON.parse(c.service.command) : undefined,
    // tenant_id survives a name being reused after a delete: cleanup finds exactly this tenant's containers.
    labels: { "staxa.tenant_id": c.tenant.id },
  });
  // A cluster engine runs the service's replicas itself (the single-host engine starts one container per call).
  return c.service.replicas > 1 ? { ...spec, replicas: c.service.replicas } : spec;
}
