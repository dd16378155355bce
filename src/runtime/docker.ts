// Docker engine implementation of Runtime over dockerode; the only place the appliance talks to dockerd.
import Docker from "dockerode";
import type { Config } from "../config.ts";
import { Upstream } from "../lib/errors.ts";
import type { Runtime } from "./types.ts";
import { call, isNotFound, upstream } from "./docker-errors.ts";
import { buildImage, findImage, pullImage, removeImage } from "./docker-images.ts";
import { cachedBuildSandbox } from "./build-sandbox.ts";
import { containerLogs, inspectContainer, listContainers, startContainer, stopAndRemove } from "./docker-containers.ts";
import { listeningSockets } from "./listening-sockets.ts";

/** A ping that hangs is as bad as one refused: the API must keep answering when dockerd is stuck. */
const PING_TIMEOUT_MS = 5_000;

/** Exact-name lookup: Docker resolves a bare name by ID prefix too, which must never hit a stranger's network. */
async function findNetworkId(docker: Docker, name: string): Promise<string | undefined> {
  const rows = await call("list networks", () => docker.listNetworks({ filters: { name: [name] } }));
  return rows.find((n) => n.Name === name)?.Id;
}

export function createDockerRuntime(config: Config): Runtime {
  const docker = new Docker({ socketPath: config.dockerSocket });
  const sandbox = cachedBuildSandbox(docker);
  return {
    async ping() {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Upstream("docker", `engine did not answer within ${PING_TIMEOUT_MS / 1000}s`)), PING_TIMEOUT_MS);
      });
      try {
        await Promise.race([call("ping", () => docker.ping()), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },

    async ensureNetwork(name, labels) {
      if (await findNetworkId(docker, name)) return;
      try {
        await docker.createNetwork({
          Name: name,
          Driver: "bridge",
          CheckDuplicate: true,
          Labels: labels,
          // Services of one tenant talk to each other; other tenants sit on other bridges, which Docker isolates.
          Options: { "com.docker.network.bridge.enable_icc": "true" },
        });
      } catch (err) {
        // 409: created concurrently by another deploy of the same tenant, which is what we wanted.
        if ((err as { statusCode?: number }).statusCode !== 409) throw upstream(`create network ${name}`, err);
      }
    },

    async removeNetwork(name) {
      const id = await findNetworkId(docker, name);
      if (!id) return;
      try {
        await docker.getNetwork(id).remove();
      } catch (err) {
        if (!isNotFound(err)) throw upstream(`remove network ${name}`, err);
      }
    },

    async networkSubnet(name) {
      const id = await findNetworkId(docker, name);
      if (!id) return undefined;
      const net = await call(`inspect network ${name}`, () => docker.getNetwork(id).inspect());
      return (net.IPAM?.Config ?? []).map((c: { Subnet?: string }) => c.Subnet).find((s?: string) => s && s.includes(".")) ?? undefined;
    },

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
    pullImage: (ref, auth, onLog) => pullImage(docker, ref, auth, onLog),
    findImage: (ref) => findImage(docker, ref),
    removeImage: (ref) => removeImage(docker, ref),
    startContainer: (spec) => startContainer(docker, spec),
    inspectContainer: (idOrName) => inspectContainer(docker, idOrName),
    stopAndRemove: (idOrName, timeoutSec) => stopAndRemove(docker, idOrName, timeoutSec),
    listContainers: (labels) => listContainers(docker, labels),
    logs: (idOrName, opts) => containerLogs(docker, idOrName, opts),
    listeningSockets: (idOrName) => listeningSockets(docker, idOrName),
  } satisfies Runtime;
}
