// Docker Swarm implementation of Runtime (STAXA_ENGINE=swarm): the appliance talks to a manager's engine
// (STAXA_DOCKER_SOCKET); tenant networks are unencrypted attachable overlays and each deployment's container is a
// Swarm service whose tasks spread over the nodes. Volumes and builds stay the manager engine's, as on one host;
// with a cluster registry, each image a service runs is pushed there first and the nodes pull it (swarm-images.ts;
// docs/swarm.md: what works, what differs).
import Docker from "dockerode";
import type { Config } from "../config.ts";
import { Conflict } from "../lib/errors.ts";
import type { Runtime } from "./types.ts";
import { createDockerRuntime } from "./docker.ts";
import { call, upstream } from "./docker-errors.ts";
import { STOP_GRACE_SEC } from "./swarm-spec.ts";
import { inspectService, listServices, removeService, scaleService, serviceLogs, startService } from "./swarm-services.ts";
import { clusterRef, publishImage, pushName, registryAuth, unpublishImage } from "./swarm-images.ts";
import { clusterRegistryOf, type ClusterRegistry } from "../registry-server/material.ts";
import { swarmCluster } from "./swarm-nodes.ts";
import type { Cluster } from "./cluster.ts";
import { localTaskContainer, untilNoLocalTask, waitJobTask } from "./swarm-tasks.ts";

/** The Swarm runtime: a Runtime whose containers are services, plus the cluster's nodes. */
export type SwarmRuntime = Runtime & { cluster: Cluster };

/** Overlay networks of this engine by exact name (Docker also matches an id prefix: a stranger's network). */
async function overlayByName(docker: Docker, name: string): Promise<Docker.NetworkInspectInfo | undefined> {
  const rows = await call("list networks", () => docker.listNetworks({ filters: { name: [name] } }));
  return rows.find((n) => n.Name === name);
}

const ipv4Subnet = (n: Docker.NetworkInspectInfo | undefined) =>
  (n?.IPAM?.Config ?? []).map((c) => c.Subnet).find((s): s is string => !!s && s.includes("."));

export function createSwarmRuntime(config: Config): SwarmRuntime {
  const docker = new Docker({ socketPath: config.dockerSocket });
  const host = createDockerRuntime(config);
  // The manager's own node id: stateful services are pinned where ensureVolume creates their volumes.
  let self: Promise<string> | undefined;
  const selfNode = () =>
    (self ??= call("engine info", () => docker.info()).then((i: { Swarm?: { NodeID?: string; ControlAvailable?: boolean } }) => {
      if (!i.Swarm?.NodeID || !i.Swarm.ControlAvailable)
        throw new Conflict("STAXA_ENGINE=swarm needs the engine to be a swarm manager (docker swarm init)", {}, "not_a_manager");
      return i.Swarm.NodeID;
    })).catch((e) => {
      self = undefined;
      throw e;
    });

  // Read when first needed: `staxa registry` may create its credentials after the appliance started.
  let registry: ClusterRegistry | undefined;
  const registryNow = () => (registry ??= clusterRegistryOf(config));
  /** Replicas of services a backup stopped, to start again. */
  const stoppedAt = new Map<string, number>();

  return {
    ...host,

    async ensureNetwork(name, labels, subnet) {
      const existing = await overlayByName(docker, name);
      if (existing) return ipv4Subnet(existing);
      try {
        await docker.createNetwork({
          Name: name,
          Driver: "overlay",
          // Attachable: a job's one-off task and the tenant's services share it. Unencrypted: no IPsec here.
          Attachable: true,
          CheckDuplicate: true,
          Labels: labels,
          ...(subnet ? { IPAM: { Driver: "default", Config: [{ Subnet: subnet }] } } : {}),
        });
        return subnet;
      } catch (err) {
        const e = err as { statusCode?: number; message?: string };
        if (e.statusCode === 409) return ipv4Subnet(await overlayByName(docker, name));
        if (subnet && e.statusCode === 403 && /overlap/i.test(e.message ?? ""))
          throw new Conflict(`subnet ${subnet} overlaps another Docker network`, { subnet }, "subnet_taken");
        throw upstream(`create network ${name}`, err);
      }
    },

    async startContainer(spec) {
      const pinNode = spec.volumes.length ? await selfNode() : undefined;
      const reg = registryNow();
      const pushed = reg
        ? await publishImage(docker, reg, await pushName(docker, reg.address, spec.image, spec.labels))
        : undefined;
      return startService(docker, pushed ? { ...spec, image: pushed } : spec, {
        replicas: spec.replicas ?? 1,
        pinNode,
        timeoutMs: config.startTimeoutSec * 1000,
        ...(reg && pushed ? { auth: registryAuth(reg), localImage: spec.image } : {}),
      });
    },
    scaleService: (id, replicas) => {
      const reg = registryNow();
      return scaleService(docker, id, replicas, reg && registryAuth(reg));
    },
    // The pushed copy's tag and the manager's both go (in that order: one still in use keeps the local tag, which
    // the next retention pass retries); the registry's manifest too once no other local tag holds the image (a
    // rebuild of the same content shares the digest the live deployment runs).
    async removeImage(ref) {
      const reg = registryNow();
      if (!reg) return host.removeImage(ref);
      const id = await host.findImage(ref);
      const { repo, tag } = clusterRef(reg.address, ref);
      await host.removeImage(`${repo}:${tag}`);
      await host.removeImage(ref);
      if (id && !(await host.findImage(id))) await unpublishImage(reg, ref);
    },
    inspectContainer: (id) => inspectService(docker, id),
    stopAndRemove: (id, timeoutSec) => removeService(docker, id, timeoutSec),
    listContainers: (labels) => listServices(docker, labels),
    logs: (id, opts) => serviceLogs(docker, id, opts),
    waitContainer: (id, signal) => waitJobTask(docker, id, signal),
    // A volume backup stops the service around its tar: its tasks scaled to none (the manager's, where the volume is,
    // gone), then the count it ran. It runs in the tenant's lane, where no reconciliation scales it back meanwhile.
    async stopContainer(id, timeoutSec) {
      const svc = await inspectService(docker, id);
      if (!svc) return;
      if (svc.replicas) stoppedAt.set(id, svc.replicas);
      await scaleService(docker, id, 0, registryNow() && registryAuth(registryNow()!));
      await untilNoLocalTask(docker, id, Math.max(timeoutSec, STOP_GRACE_SEC));
    },
    async startStopped(id) {
      const replicas = stoppedAt.get(id) ?? 1;
      stoppedAt.delete(id);
      await scaleService(docker, id, replicas, registryNow() && registryAuth(registryNow()!));
    },
    exec: async (id, argv, io) => host.exec!(await localTaskContainer(docker, id), argv, io),
    // Per-task samples live on each node's engine; the manager has no stats call for a service.
    containerStats: async () => undefined,
    restartCount: async () => undefined,
    listeningSockets: async () => [],
    cluster: swarmCluster(docker, registryNow),
  } satisfies SwarmRuntime;
}
