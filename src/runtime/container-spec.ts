// Pure: the ContainerSpec of one service's container, from domain values. What Docker runs, as data.
import { Invalid } from "../lib/errors.ts";
import type { ContainerSpec, VolumeMount } from "./types.ts";

const MiB = 1024 * 1024;

/** The documented resource tiers of `resource_size`: memory (no swap on top), CPUs, max processes. */
export const RESOURCE_SIZES = {
  small: { memoryMb: 512, cpus: 0.5, pids: 256 },
  medium: { memoryMb: 1024, cpus: 1, pids: 512 },
  large: { memoryMb: 2048, cpus: 2, pids: 1024 },
} as const;
export type ResourceSize = keyof typeof RESOURCE_SIZES;

/**
 * Capabilities added back after dropping ALL — the few common images need, nothing more:
 * - CHOWN: root entrypoints (postgres, redis, …) chown their data volume to the service user.
 * - DAC_OVERRIDE: the same entrypoints walk a data dir already owned by that user (mode 0700) on restart.
 * - SETUID, SETGID: gosu/su-exec/nginx drop from root to the service user.
 * - NET_BIND_SERVICE: servers running as root that listen on a port below 1024 (nginx, caddy on :80).
 * Left out on purpose: NET_RAW (spoofing on the bridge), MKNOD, SYS_CHROOT, SETFCAP, SETPCAP,
 * FOWNER, FSETID, KILL, AUDIT_WRITE. no-new-privileges stops a binary from regaining any of them.
 */
export const CAP_ADD = ["CHOWN", "DAC_OVERRIDE", "NET_BIND_SERVICE", "SETGID", "SETUID"] as const;

export interface ContainerSpecInput {
  /** Tenant name (a DNS label). */
  tenant: string;
  /** Service name inside the tenant (a DNS label); also its DNS alias on the tenant network. */
  service: string;
  deploymentId: string;
  image: string;
  env: Record<string, string>;
  /** Port the app listens on; passed as PORT. */
  port: number;
  resourceSize: ResourceSize;
  network: string;
  volumes?: VolumeMount[];
  cmd?: string[];
  user?: string;
  /** Extra labels (e.g. staxa.tenant_id); the staxa.managed/tenant/service/deployment ones always win. */
  labels?: Record<string, string>;
}

/** `staxa-<tenant>-<service>-<last 8 chars of the deployment id>`: unique per deployment, readable in `docker ps`. */
export function containerName(tenant: string, service: string, deploymentId: string): string {
  return `staxa-${tenant}-${service}-${deploymentId.slice(-8)}`;
}

/** Labels tying a container to the store; reconciliation trusts only `staxa.managed`. */
export function containerLabels(tenant: string, service: string, deploymentId: string): Record<string, string> {
  return { "staxa.managed": "1", "staxa.tenant": tenant, "staxa.service": service, "staxa.deployment": deploymentId };
}

/** The locked-down, limited spec of one service container. */
export function containerSpec(input: ContainerSpecInput): ContainerSpec {
  const size = RESOURCE_SIZES[input.resourceSize];
  if (!size) throw new Invalid("resource_size", "resource_size must be small, medium or large");
  if (!Number.isInteger(input.port) || input.port < 1 || input.port > 65535) throw new Invalid("port", "port must be 1-65535");
  return {
    name: containerName(input.tenant, input.service, input.deploymentId),
    image: input.image,
    // The platform's PORT wins: the health check and the route use it.
    env: { ...input.env, PORT: String(input.port) },
    labels: { ...input.labels, ...containerLabels(input.tenant, input.service, input.deploymentId) },
    network: input.network,
    aliases: [input.service],
    memoryBytes: size.memoryMb * MiB,
    nanoCpus: Math.round(size.cpus * 1e9),
    pidsLimit: size.pids,
    capAdd: [...CAP_ADD],
    ...(input.cmd ? { cmd: input.cmd } : {}),
    ...(input.user ? { user: input.user } : {}),
    volumes: input.volumes ?? [],
    restartPolicy: "unless-stopped",
  };
}

export interface JobSpecInput {
  tenant: string;
  service: string;
  jobId: string;
  runId: string;
  image: string;
  env: Record<string, string>;
  command: string[];
  resourceSize: ResourceSize;
  network: string;
  labels?: Record<string, string>;
}

/**
 * A job run's one-off container: the service's image, env and limits on the tenant network, running `command`
 * (it replaces the image's CMD; the ENTRYPOINT stays, as `docker run image cmd…`), never restarted, no DNS
 * alias (the service's name stays its own), no volumes. `staxa.deployment` is `job` so no deployment claims it.
 */
export function jobContainerSpec(input: JobSpecInput): ContainerSpec {
  const size = RESOURCE_SIZES[input.resourceSize];
  if (!size) throw new Invalid("resource_size", "resource_size must be small, medium or large");
  return {
    name: `staxa-${input.tenant}-job-${input.runId.slice(-8)}`,
    image: input.image,
    env: { ...input.env, STAXA_JOB_ID: input.jobId, STAXA_JOB_RUN_ID: input.runId },
    labels: {
      ...input.labels,
      ...containerLabels(input.tenant, input.service, "job"),
      "staxa.job": input.jobId,
      "staxa.job_run": input.runId,
    },
    network: input.network,
    aliases: [],
    memoryBytes: size.memoryMb * MiB,
    nanoCpus: Math.round(size.cpus * 1e9),
    pidsLimit: size.pids,
    capAdd: [...CAP_ADD],
    cmd: input.command,
    volumes: [],
    restartPolicy: "no",
  };
}
