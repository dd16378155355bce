// Docker engine implementation of Runtime (dockerode). Placeholder until the runtime lands.
import type { Config } from "../config.ts";
import type { Runtime } from "./types.ts";
import { Upstream } from "../lib/errors.ts";

export function createDockerRuntime(_config: Config): Runtime {
  const no = async (): Promise<never> => {
    throw new Upstream("docker", "runtime not available");
  };
  return {
    ping: no, ensureNetwork: no, removeNetwork: no, ensureVolume: no, removeVolume: no, buildImage: no,
    pullImage: no, findImage: no, removeImage: no, startContainer: no, inspectContainer: no, stopAndRemove: no,
    listContainers: no,
    logs: () => ({ [Symbol.asyncIterator]: () => ({ next: no }) }),
  };
}
