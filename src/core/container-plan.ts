// The ContainerSpec of a service's candidate container: a pure function of the domain objects.
import type { Config } from "../config.ts";
import type { ContainerSpec } from "../runtime/types.ts";
import type { TenantRow } from "../store/tenants.ts";
import type { ServiceRow } from "../store/services.ts";
import { RESOURCE_SIZES, containerName, labels, networkName, type ResourceSize } from "./resources.ts";

/**
 * Capabilities given back after dropping ALL: enough for common images that start as root and
 * drop to a user or bind a low port (nginx, caddy). No NET_RAW, no SYS_*: documented in the README.
 */
export const CAP_ADD = ["CHOWN", "SETUID", "SETGID", "NET_BIND_SERVICE", "DAC_OVERRIDE", "FOWNER"];

/** Port a service listens on: the request's, else the build plan's, else 3000. */
export function servicePort(tenant: TenantRow, service: ServiceRow, planned?: number): number {
  return service.port ?? tenant.app_port ?? planned ?? 3000;
}

export function candidateSpec(
  config: Config,
  c: { tenant: TenantRow; service: ServiceRow; deploymentId: string; image: string; env: Record<string, string>; port: number },
): ContainerSpec {
  const size = RESOURCE_SIZES[(c.service.resource_size || c.tenant.resource_size) as ResourceSize] ?? RESOURCE_SIZES.small;
  void config;
  return {
    name: containerName(c.tenant.name, c.service.name, c.deploymentId),
    image: c.image,
    // PORT tells conventional apps where to listen; the user's own PORT wins.
    env: { PORT: String(c.port), ...c.env },
    labels: labels(c.tenant, c.service.name, c.deploymentId),
    network: networkName(c.tenant.name),
    aliases: [c.service.name],
    memoryBytes: size.memoryMb * 1024 * 1024,
    nanoCpus: Math.round(size.cpus * 1e9),
    pidsLimit: size.pids,
    capAdd: CAP_ADD,
    volumes: JSON.parse(c.service.volumes || "[]"),
    restartPolicy: "unless-stopped",
    cmd: c.service.command ? JSON.parse(c.service.command) : undefined,
  };
}
