// One-off containers (scheduled job runs) and resource usage over dockerode: wait for an exit, one stats sample.
import type Docker from "dockerode";
import { isNotFound, upstream } from "./docker-errors.ts";
import type { RawStats } from "./stats.ts";

/** Waits for the container to exit and returns its exit code; the signal stops waiting (the container keeps running). */
export async function waitContainer(docker: Docker, id: string, signal?: AbortSignal): Promise<number> {
  try {
    const r = (await docker.getContainer(id).wait({ abortSignal: signal })) as { StatusCode: number };
    return r.StatusCode;
  } catch (err) {
    if (signal?.aborted) throw new Error("wait aborted");
    throw upstream(`wait for container ${id}`, err);
  }
}

/** One stats sample (Docker measures over about a second); undefined when the container is gone. */
export async function containerStats(docker: Docker, id: string): Promise<RawStats | undefined> {
  try {
    return (await docker.getContainer(id).stats({ stream: false })) as unknown as RawStats;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw upstream(`stats of container ${id}`, err);
  }
}

/** How often the container restarted (Docker's restart policy counts it). */
export async function restartCount(docker: Docker, id: string): Promise<number | undefined> {
  try {
    return (await docker.getContainer(id).inspect()).RestartCount;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw upstream(`inspect container ${id}`, err);
  }
}
