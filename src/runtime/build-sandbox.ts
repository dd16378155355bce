// Where a build step runs: the classic builder has no option for capabilities or a process limit, so the engine's
// default runtime (scripts/staxa-runc, installed by scripts/build-runtime.sh) drops CAP_NET_RAW and sets a pids
// limit for containers in Staxa's build cgroup. A build is refused when the engine lacks that runtime.
import type Docker from "dockerode";
import { Upstream } from "../lib/errors.ts";
import { call } from "./docker-errors.ts";

/** Build options for the sandbox, or a refusal when the engine cannot give one. */
export type BuildSandbox = () => Promise<{ cgroupparent: string }>;

/** The runtime scripts/build-runtime.sh registers as dockerd's default. */
export const BUILD_RUNTIME = "staxa-runc";

/** Build options that put the build's containers in the cgroup the runtime wrapper recognises. */
export async function buildSandbox(docker: Docker): Promise<{ cgroupparent: string }> {
  const info = (await call("info", () => docker.info())) as { DefaultRuntime?: string; CgroupDriver?: string };
  if (info.DefaultRuntime !== BUILD_RUNTIME) {
    throw new Upstream(
      "docker",
      `the Docker engine's default runtime is ${info.DefaultRuntime ?? "unknown"}, not ${BUILD_RUNTIME}: build steps would run with NET_RAW and no process limit, so builds are refused (run scripts/build-runtime.sh, or install.sh again)`,
    );
  }
  // systemd's driver takes a slice name; cgroupfs a path. The wrapper matches either.
  return { cgroupparent: info.CgroupDriver === "systemd" ? "staxa-build.slice" : "/staxa-build" };
}

/** buildSandbox, asked once per engine client: `docker info` costs 60–400 ms. A refusal is asked again next time. */
export function cachedBuildSandbox(docker: Docker): BuildSandbox {
  let ok: Promise<{ cgroupparent: string }> | undefined;
  return () => (ok ??= buildSandbox(docker).catch((e) => ((ok = undefined), Promise.reject(e))));
}
