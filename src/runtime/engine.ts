// The engine the appliance runs tenants on (STAXA_ENGINE): the one place that chooses between the implementations.
import type { Config } from "../config.ts";
import type { Runtime } from "./types.ts";
import { createDockerRuntime } from "./docker.ts";
import { createSwarmRuntime } from "./swarm.ts";

export function createRuntime(config: Config): Runtime {
  return config.engine === "swarm" ? createSwarmRuntime(config) : createDockerRuntime(config);
}
