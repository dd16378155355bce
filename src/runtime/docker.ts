// Docker engine implementation of Runtime over dockerode; the only place the appliance talks to dockerd.
import Docker from "dockerode";
import type { Config } from "../config.ts";
import { Conflict, Upstream } from "../lib/errors.ts";
import type { Runtime } from "./types.ts";
import { call, isNotFound, upstream } from "./docker-errors.ts";
import { buildImage, findImage, pullImage, removeImage } from "./docker-images.ts";
import { dataRoot, engineDisk, listImageTags, pruneBuildCache, pruneDangling } from "./docker-disk.ts";
import { cachedBuildSandbox } from "./build-sandbox.ts";
import { hostRoutes } from "./host-routes.ts";
import { containerLogs, inspectContainer, listContainers, startContainer, stopAndRemove } from "./docker-containers.ts";
import { listeningSockets } from "./listening-sockets.ts";
import { containerStats, restartCount, waitContainer } from "./docker-jobs.ts";
import { execIn, runHelper, startStopped, stopContainer } from "./docker-exec.ts";

/** A ping that hangs is as bad as one refused: the API must keep answering when dockerd is stuck. */
const PING_TIMEOUT_MS = 5_000;

/**
 * One network by exact name, with one inspect (a listing costs dockerd every network, on every deploy). Docker
 * resolves a bare term by ID prefix too, so an answer whose name differs is a stranger's network: not ours.
 */
async function inspectNetwork(docker: Docker, name: string): Promise<Docker.NetworkInspectInfo | undefined> {
  try {
    const n = await docker.getNetwork(name).inspect();
    return n.Name === name ? n : undefined;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw upstream(`inspect network ${name}`, err);
  }
}

/** The IPv4 subnet of a network (Docker lists IPv6 ones beside it when enabled). */
function ipv4Subnet(n: { IPAM?: { Config?: Array<{ Subnet?: string }> | null } } | undefined): string | undefined {
  return (n?.IPAM?.Config ?? []).map((c) => c.Subnet).find((s): s is string => !!s && s.includes("."));
}

export function createDockerRuntime(config: Config): Runtime {
  const docker = new Docker({ socketPath: config.dockerSocket });
  const sandbox = cachedBuildSandbox(docker);
  return {
    async ping() {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Upstream("docker", `engine did not answer within ${PING_TIMEOUT_MS / 1000}s`)),
          PING_TIMEOUT_MS,
        );
      });
      try {
        await Promise.race([call("ping", () => docker.ping()), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },

    async ensureNetwork(name, labels, subnet) {
      const existing = await inspectNetwork(docker, name);
      if (existing) return ipv4Subnet(existing);
      try {
        await docker.createNetwork({
          Name: name,
          Driver: "bridge",
          CheckDuplicate: true,
          Labels: labels,
          // The appliance's own pool (core allocates): Docker's default pools hold about 30 networks.
          ...(subnet ? { IPAM: { Driver: "default", Config: [{ Subnet: subnet }] } } : {}),
          // Services of one tenant talk to each other; other tenants sit on other bridges, which Docker isolates.
          Options: { "com.docker.network.bridge.enable_icc": "true" },
        });
        return subnet;
      } catch (err) {
        const e = err as { statusCode?: number; message?: string };
        // 409: created concurrently by another deploy of the same tenant, which is what we wanted.
        if (e.statusCode === 409) return ipv4Subnet(await inspectNetwork(docker, name));
        // 403 "Pool overlaps with other one on this address space": a network the store does not know holds it.
        if (subnet && e.statusCode === 403 && /overlap/i.test(e.message ?? ""))
          throw new Conflict(`subnet ${subnet} overlaps another Docker network`, { subnet }, "subnet_taken");
        throw upstream(`create network ${name}`, err);
      }
    },

    async removeNetwork(name) {
      const net = await inspectNetwork(docker, name);
      if (!net) return;
      try {
        await docker.getNetwork(net.Id).remove();
      } catch (err) {
        if (!isNotFound(err)) throw upstream(`remove network ${name}`, err);
      }
    },

    async networkSubnet(name) {
      return ipv4Subnet(await inspectNetwork(docker, name));
    },

    async listNetworks() {
      const rows = await call("list networks", () => docker.listNetworks());
      return rows.map((n) => ({ name: n.Name, subnet: ipv4Subnet(n), labels: n.Labels ?? {} }));
    },

    hostRoutes,

    async ensureVolume(name, labels) {
      // Docker's volume create is idempotent for an existing name with the same driver.
      await call(`create volume ${name}`, () => docker.createVolume({ Name: name, Driver: "local", Labels: labels }));
    },

    async removeVolume(name) {
      try {
        await docker.getVolume(name).remove();
      } catch (err) {
        if (!isNotFound(err)) throw upstream(`remove volume ${name}`, err);
      }
    },

    buildImage: (spec) => buildImage(docker, config, spec, sandbox),
    pullImage: (ref, auth, onLog, opts) => pullImage(docker, ref, auth, onLog, opts),
    findImage: (ref) => findImage(docker, ref),
    removeImage: (ref) => removeImage(docker, ref),
    listImageTags: (repos) => listImageTags(docker, repos),
    engineDisk: () => engineDisk(docker),
    pruneDangling: (before) => pruneDangling(docker, before),
    pruneBuildCache: (keepBytes) => pruneBuildCache(docker, keepBytes),
    dataRoot: () => dataRoot(docker),
    startContainer: (spec) => startContainer(docker, spec),
    inspectContainer: (idOrName) => inspectContainer(docker, idOrName),
    stopAndRemove: (idOrName, timeoutSec) => stopAndRemove(docker, idOrName, timeoutSec),
    listContainers: (labels) => listContainers(docker, labels),
    logs: (idOrName, opts) => containerLogs(docker, idOrName, opts),
    listeningSockets: (idOrName) => listeningSockets(docker, idOrName),
    waitContainer: (id, signal) => waitContainer(docker, id, signal),
    containerStats: (id) => containerStats(docker, id),
    restartCount: (id) => restartCount(docker, id),
    exec: (id, argv, io) => execIn(docker, id, argv, io),
    runHelper: (spec, io) => runHelper(docker, spec, io),
    stopContainer: (id, timeoutSec) => stopContainer(docker, id, timeoutSec),
    startStopped: (id) => startStopped(docker, id),
  } satisfies Runtime;
}
