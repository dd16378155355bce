// Pure: what the Swarm engine asks for, as data. A ContainerSpec becomes one Swarm service; tasks and nodes as
// Swarm reports them become upstreams and node rows. Nothing here depends on IPVS (routing mesh, VIPs) or IPsec:
// endpoints are dnsrr, ports are published in host mode, overlays are unencrypted.
import type Docker from "dockerode";
import { createHash } from "node:crypto";
import { Invalid } from "../lib/errors.ts";
import type { ContainerSpec } from "./types.ts";
import type { ClusterNode } from "./cluster.ts";

/** Keeps one chatty tenant from filling a node's disk with json-file logs (as on one host). */
const LOG_DRIVER = { Name: "json-file", Options: { "max-size": "10m", "max-file": "3" } };

/** SIGTERM to SIGKILL for a task, as one host's stop timeout. */
export const STOP_GRACE_SEC = 10;

/** Swarm service names are DNS labels: at most 63 characters. */
export function serviceName(containerName: string): string {
  if (containerName.length <= 63) return containerName;
  return `${containerName.slice(0, 50)}-${createHash("sha256").update(containerName).digest("hex").slice(0, 12)}`;
}

/** The port the app listens on: the platform's PORT, which containerSpec always sets. */
export function targetPort(spec: Pick<ContainerSpec, "env">): number | undefined {
  const port = Number(spec.env.PORT);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}

/** Defence in depth, as on one host: a tenant's tasks run on its own network, mount only named volumes. */
function guard(spec: ContainerSpec): void {
  const n = spec.network;
  if (!n || ["host", "none", "bridge", "ingress", "docker_gwbridge"].includes(n) || n.startsWith("container:"))
    throw new Invalid("network", "tasks run on their tenant's own overlay network only");
  for (const v of spec.volumes) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v.name))
      throw new Invalid("volumes", "a volume is a Docker volume name, never a host path");
    if (!v.target.startsWith("/")) throw new Invalid("volumes", "a volume target must be an absolute path");
  }
}

export interface ServiceOptions {
  /** Tasks to run (the service's replicas); a job run is always one. */
  replicas: number;
  /** Node a stateful service is pinned to (its volumes live there); undefined: anywhere. */
  pinNode?: string;
  /** The manager's local reference of an image the tasks pull from the cluster registry (spec.image is that copy). */
  localImage?: string;
}

/** Service label holding the local image reference a pushed image came from (what core knows the image as). */
export const LOCAL_IMAGE_LABEL = "staxa.local_image";

/**
 * The Swarm service of one ContainerSpec: the same posture as the single-host container where Swarm has it
 * (caps dropped but `capAdd`, pids, memory and CPU limits, labels), plus what a cluster needs:
 * - resources are reserved as well as limited, so the scheduler never packs a node beyond what it holds;
 * - endpoint mode dnsrr (no VIP: IPVS is absent on this kernel and on many hosts), the service name and its
 *   aliases resolve to every task on the tenant's overlay;
 * - the app's port published in host mode with no fixed host port: Swarm picks one per task, so several tasks
 *   (and tenants) share a node; Caddy dials <node address>:<that port>;
 * - start-first updates and rollback on failure (the deployment replaces the service anyway; reconciliation relies on it);
 * - a job run (`restartPolicy: "no"`) is a replicated job: it runs once, to completion, never restarted.
 * Not expressible in Swarm of Docker 20.10: no-new-privileges per task (set it in each node's daemon.json,
 * `"no-new-privileges": true`, as the join procedure does), memory+swap = memory (Swarm sets no swap limit).
 */
export function serviceSpec(spec: ContainerSpec, o: ServiceOptions): Docker.CreateServiceOptions {
  guard(spec);
  const port = targetPort(spec);
  const job = spec.restartPolicy === "no";
  return {
    Name: serviceName(spec.name),
    Labels: o.localImage ? { ...spec.labels, [LOCAL_IMAGE_LABEL]: o.localImage } : spec.labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: spec.image,
        Labels: spec.labels,
        Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        // Docker's Cmd is Swarm's Args (Swarm's Command would replace the ENTRYPOINT).
        ...(spec.cmd ? { Args: spec.cmd } : {}),
        ...(spec.user ? { User: spec.user } : {}),
        CapabilityDrop: ["ALL"],
        CapabilityAdd: spec.capAdd,
        ReadOnly: false,
        Mounts: spec.volumes.map((v) => ({ Type: "volume" as const, Source: v.name, Target: v.target, ReadOnly: false })),
        StopGracePeriod: STOP_GRACE_SEC * 1e9,
      },
      Resources: {
        Limits: { NanoCPUs: spec.nanoCpus, MemoryBytes: spec.memoryBytes, Pids: spec.pidsLimit },
        Reservations: { NanoCPUs: spec.nanoCpus, MemoryBytes: spec.memoryBytes },
      },
      RestartPolicy: job
        ? { Condition: "none" }
        : { Condition: spec.restartPolicy === "on-failure" ? "on-failure" : "any", Delay: 1e9 },
      Placement: o.pinNode ? { Constraints: [`node.id==${o.pinNode}`] } : {},
      Networks: [{ Target: spec.network, Aliases: spec.aliases }],
      LogDriver: LOG_DRIVER,
    },
    Mode: job
      ? { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } }
      : { Replicated: { Replicas: Math.max(1, Math.floor(o.replicas)) } },
    ...(job
      ? {}
      : {
          UpdateConfig: { Parallelism: 1, Order: "start-first", FailureAction: "rollback", Monitor: 5e9 },
          RollbackConfig: { Parallelism: 1, Order: "start-first", FailureAction: "pause" },
        }),
    EndpointSpec: {
      Mode: "dnsrr",
      Ports: port && !job ? [{ Protocol: "tcp", TargetPort: port, PublishMode: "host" }] : [],
    },
  };
}

/** A task as the upstream computation needs it (the fields of Docker's task object that matter). */
export interface TaskView {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  DesiredState?: string;
  Status?: {
    State?: string;
    Err?: string;
    ContainerStatus?: { ExitCode?: number };
    PortStatus?: { Ports?: Array<{ TargetPort?: number; PublishedPort?: number; PublishMode?: string }> };
  };
}

/** The address a node is dialled at: its Status.Addr, or for a manager reporting 0.0.0.0, its manager address. */
export function nodeAddress(n: NodeView): string {
  const addr = n.Status?.Addr;
  if (addr && addr !== "0.0.0.0") return addr;
  return (n.ManagerStatus?.Addr ?? "").replace(/:\d+$/, "");
}

/** `<node address>:<published port>` of each running task of a service (deduplicated, in task order). */
export function taskUpstreams(tasks: TaskView[], addressOf: Map<string, string>, port: number): string[] {
  const out: string[] = [];
  for (const t of tasks) {
    if (t.Status?.State !== "running" || t.DesiredState !== "running" || !t.NodeID) continue;
    const addr = addressOf.get(t.NodeID);
    const published = t.Status.PortStatus?.Ports?.find((p) => p.TargetPort === port && p.PublishMode === "host");
    if (addr && published?.PublishedPort) out.push(`${addr}:${published.PublishedPort}`);
  }
  return [...new Set(out)];
}

/** The parts of Docker's node object a node row is made of. */
export interface NodeView {
  ID: string;
  Spec?: { Role?: string; Availability?: string; Labels?: Record<string, string> };
  Description?: {
    Hostname?: string;
    Engine?: { EngineVersion?: string };
    Resources?: { NanoCPUs?: number; MemoryBytes?: number };
  };
  Status?: { State?: string; Addr?: string; Message?: string };
  ManagerStatus?: { Leader?: boolean; Reachability?: string; Addr?: string };
}

/** One node row: role, address, availability, state, resources, and the staxa tasks running on it. */
export function nodeRow(n: NodeView, tasks: Array<TaskView & { labels: Record<string, string> }>): ClusterNode {
  const here = tasks.filter((t) => t.NodeID === n.ID && t.DesiredState === "running");
  return {
    id: n.ID,
    hostname: n.Description?.Hostname ?? "",
    role: n.Spec?.Role === "manager" ? "manager" : "worker",
    leader: n.ManagerStatus?.Leader === true,
    address: nodeAddress(n),
    availability: (n.Spec?.Availability ?? "active") as ClusterNode["availability"],
    state: (n.Status?.State ?? "unknown") as ClusterNode["state"],
    engine_version: n.Description?.Engine?.EngineVersion ?? "",
    resources: {
      cpus: (n.Description?.Resources?.NanoCPUs ?? 0) / 1e9,
      memory_bytes: n.Description?.Resources?.MemoryBytes ?? 0,
    },
    tasks: here.map((t) => ({
      tenant: t.labels["staxa.tenant"] ?? "",
      service: t.labels["staxa.service"] ?? "",
      state: t.Status?.State ?? "unknown",
    })),
  };
}
