// Images over dockerode: build a context with limits and a deadline, pull with credentials, find, remove.
import type Docker from "dockerode";
import type { Config } from "../config.ts";
import { Upstream } from "../lib/errors.ts";
import type { BuildSpec, PullOptions, RegistryAuth } from "./types.ts";
import { contextTar, dockerfilePath } from "./build-context.ts";
import { labelledContext } from "./build-labels.ts";
import { buildSandbox, type BuildSandbox } from "./build-sandbox.ts";
import { call, isNotFound, upstream } from "./docker-errors.ts";
import { readJsonLines } from "./log-stream.ts";
import { StageTracker, stageTag } from "./build-stages.ts";

const CPU_PERIOD = 100_000;
/** A pull that makes no progress for this long is a hung registry, not a slow one. */
const PULL_TIMEOUT_MS = 15 * 60_000;

type Progress = {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
};

/** Runs `work` under an AbortController fired by the caller's signal or the deadline; names which one fired. */
async function withDeadline<T>(
  what: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  work: (s: AbortSignal) => Promise<T>,
): Promise<T> {
  const ctl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => ((timedOut = true), ctl.abort()), timeoutMs);
  const onAbort = () => ctl.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) ctl.abort();
  try {
    if (ctl.signal.aborted) throw new Error("aborted");
    return await work(ctl.signal);
  } catch (err) {
    if (timedOut) throw new Upstream("docker", `${what} timed out after ${Math.round(timeoutMs / 1000)}s`);
    if (ctl.signal.aborted) throw new Upstream("docker", `${what} cancelled`);
    throw err;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

/** Reads a progress stream to its end, destroying it on abort; returns the last error the daemon reported. */
async function follow(
  stream: NodeJS.ReadableStream,
  signal: AbortSignal,
  onEvent: (p: Progress) => void,
): Promise<string | undefined> {
  let error: string | undefined;
  const destroy = () => (stream as unknown as { destroy(): void }).destroy();
  signal.addEventListener("abort", destroy, { once: true });
  try {
    await readJsonLines(stream, (o) => {
      const p = o as Progress;
      if (p.error) error = p.errorDetail?.message ?? p.error;
      onEvent(p);
    });
  } finally {
    signal.removeEventListener("abort", destroy);
  }
  if (signal.aborted) throw new Error("aborted");
  return error;
}

/** Builds `spec` with memory/CPU capped by the build settings, in the build sandbox; streams the log; returns the image id. */
export async function buildImage(
  docker: Docker,
  config: Config,
  spec: BuildSpec,
  sandboxOf: BuildSandbox = () => buildSandbox(docker),
): Promise<{ imageId: string }> {
  const dockerfile = dockerfilePath(spec.dockerfile);
  const maxMemory = config.buildMemoryMb * 1024 * 1024;
  const memory = spec.memoryBytes > 0 ? Math.min(spec.memoryBytes, maxMemory) : maxMemory;
  const cpus = spec.cpus > 0 ? Math.min(spec.cpus, config.buildCpus) : config.buildCpus;
  const secrets = Object.values(spec.buildArgs ?? {});
  const sandbox = await sandboxOf(); // no NET_RAW, a pids limit: refused before any step runs without them
  const stages = new StageTracker();
  return withDeadline("build", spec.timeoutMs, spec.signal, async (signal) => {
    let imageId: string | undefined;
    const error = await call(
      "build",
      async () => {
        // Labels in one appended LABEL line when the Dockerfile allows it (one build step instead of one per label).
        const labelled = labelledContext(spec.contextDir, dockerfile, spec.labels);
        const stream = await docker.buildImage(contextTar(spec.contextDir, dockerfile, labelled), {
          t: spec.tag,
          dockerfile: labelled?.dockerfile ?? dockerfile,
          labels: labelled ? {} : spec.labels,
          buildargs: spec.buildArgs ?? {},
          memory,
          memswap: memory, // no swap beyond the memory limit
          cpuperiod: CPU_PERIOD,
          cpuquota: Math.round(cpus * CPU_PERIOD),
          rm: true,
          forcerm: true,
          pull: false,
          ...sandbox,
          abortSignal: signal,
        } as Docker.ImageBuildOptions);
        return follow(stream, signal, (p) => {
          if (p.aux?.ID) imageId = p.aux.ID;
          const text = p.stream ?? (p.status ? [p.status, p.progress].filter(Boolean).join(" ") : undefined);
          if (text) for (const line of text.replace(/\n$/, "").split("\n")) (stages.line(line), spec.onLog(line));
        });
      },
      secrets,
    );
    if (error) throw upstream("build failed", new Error(error), secrets);
    imageId ??= await findImage(docker, spec.tag);
    if (!imageId) throw new Upstream("docker", "build finished without an image");
    if (spec.tagStages) await tagStages(docker, spec.tag, stages.stages(imageId));
    return { imageId };
  });
}

/** Tags the earlier stages of a multi-stage build beside its image (see build-stages.ts). */
async function tagStages(docker: Docker, tag: string, ids: string[]): Promise<void> {
  for (const [i, id] of ids.entries()) {
    const ref = stageTag(tag, i + 1);
    const at = ref.lastIndexOf(":");
    await call(`tag ${ref}`, () => docker.getImage(id).tag({ repo: ref.slice(0, at), tag: ref.slice(at + 1) }));
  }
}

/** Pulls `ref` (with credentials when given; they go in a header, never in a log line). */
export async function pullImage(
  docker: Docker,
  ref: string,
  auth: RegistryAuth | undefined,
  onLog: (line: string) => void,
  opts: PullOptions = {},
): Promise<{ imageId: string }> {
  const secrets = auth ? [auth.password] : [];
  return withDeadline("pull", opts.timeoutMs ?? PULL_TIMEOUT_MS, opts.signal, async (signal) => {
    const error = await call(
      "pull",
      async () => {
        const stream = (await docker.pull(ref, {
          authconfig: auth ? { ...auth } : undefined,
          abortSignal: signal,
        })) as NodeJS.ReadableStream;
        return follow(stream, signal, (p) => {
          if (p.status && !p.progress) onLog([p.id, p.status].filter(Boolean).join(": "));
        });
      },
      secrets,
    );
    if (error) throw upstream(`pull ${ref}`, new Error(error), secrets);
    const imageId = await findImage(docker, ref);
    if (!imageId) throw new Upstream("docker", `pull ${ref}: image not present after pull`);
    return { imageId };
  });
}

/** Image id when `ref` exists locally; undefined only on Docker's 404. */
export async function findImage(docker: Docker, ref: string): Promise<string | undefined> {
  try {
    return (await docker.getImage(ref).inspect()).Id;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw upstream(`inspect image ${ref}`, err);
  }
}

/** Removes an image; one already gone is fine, one still used by a container throws. */
export async function removeImage(docker: Docker, ref: string): Promise<void> {
  try {
    await docker.getImage(ref).remove();
  } catch (err) {
    if (!isNotFound(err)) throw upstream(`remove image ${ref}`, err);
  }
}
