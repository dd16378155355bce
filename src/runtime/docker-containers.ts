// Containers over dockerode: create+start from a ContainerSpec, inspect, stop+remove, list, logs.
import type Docker from "dockerode";
import { Invalid } from "../lib/errors.ts";
import type { ContainerInfo, ContainerSpec, LogOptions } from "./types.ts";
import { call, dockerMessage, dockerStatus, isNotFound, upstream } from "./docker-errors.ts";
import { logLines } from "./log-stream.ts";

/** Keeps one chatty tenant from filling the host's disk with json-file logs. */
const LOG_CONFIG = { Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } };

/** Defence in depth: the spec builder never produces these, but a caller bug must not reach the host. */
function guard(spec: ContainerSpec): void {
  const n = spec.network;
  if (!n || n === "host" || n === "none" || n === "bridge" || n.startsWith("container:")) {
    throw new Invalid("network", "containers run on their tenant's own network only");
  }
  for (const v of spec.volumes) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v.name))
      throw new Invalid("volumes", "a volume is a Docker volume name, never a host path");
    if (!v.target.startsWith("/")) throw new Invalid("volumes", "a volume target must be an absolute path");
  }
}

/** The Docker create body for a spec: locked down, limited, on one network, publishing no port. */
export function createOptions(spec: ContainerSpec): Docker.ContainerCreateOptions {
  return {
    name: spec.name,
    Image: spec.image,
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: spec.labels,
    ...(spec.cmd ? { Cmd: spec.cmd } : {}),
    ...(spec.user ? { User: spec.user } : {}),
    HostConfig: {
      NetworkMode: spec.network,
      Memory: spec.memoryBytes,
      MemorySwap: spec.memoryBytes, // no swap on top of the limit: an OOM app dies instead of thrashing the host
      NanoCpus: spec.nanoCpus,
      PidsLimit: spec.pidsLimit,
      CapDrop: ["ALL"],
      CapAdd: spec.capAdd,
      SecurityOpt: ["no-new-privileges:true"],
      RestartPolicy: { Name: spec.restartPolicy, MaximumRetryCount: spec.restartPolicy === "on-failure" ? 5 : 0 },
      Mounts: spec.volumes.map((v) => ({ Type: "volume" as const, Source: v.name, Target: v.target, ReadOnly: false })),
      ReadonlyRootfs: false,
      Privileged: false,
      PublishAllPorts: false,
      PortBindings: {},
      LogConfig: LOG_CONFIG,
    },
    NetworkingConfig: { EndpointsConfig: { [spec.network]: { Aliases: spec.aliases } } },
  };
}

function ipOf(networks: Record<string, { IPAddress?: string }> | undefined, preferred: string | undefined): string | null {
  if (!networks) return null;
  const ip =
    (preferred && networks[preferred]?.IPAddress) ||
    Object.values(networks)
      .map((n) => n.IPAddress)
      .find(Boolean);
  return ip || null;
}

function fromInspect(c: Docker.ContainerInspectInfo): ContainerInfo {
  return {
    id: c.Id,
    name: c.Name.replace(/^\//, ""),
    // Docker reports a crash-looping container as Running (and Restarting): it is not serving.
    running: c.State.Running && !c.State.Restarting,
    exitCode: c.State.Running && !c.State.Restarting ? null : c.State.ExitCode,
    ip: ipOf(c.NetworkSettings.Networks, c.HostConfig.NetworkMode),
    labels: c.Config.Labels ?? {},
    image: c.Config.Image,
    oomKilled: c.State.OOMKilled,
  };
}

function fromList(c: Docker.ContainerInfo): ContainerInfo {
  const running = c.State === "running";
  const exited = /Exited \((-?\d+)\)/.exec(c.Status);
  return {
    id: c.Id,
    name: (c.Names[0] ?? "").replace(/^\//, ""),
    running,
    exitCode: running || !exited ? null : Number(exited[1]),
    ip: ipOf(c.NetworkSettings?.Networks, c.HostConfig?.NetworkMode),
    labels: c.Labels ?? {},
    image: c.Image,
  };
}

/** undefined only when Docker answers 404; every other failure throws Upstream. */
export async function inspectContainer(docker: Docker, idOrName: string): Promise<ContainerInfo | undefined> {
  try {
    return fromInspect(await docker.getContainer(idOrName).inspect());
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw upstream(`inspect container ${idOrName}`, err);
  }
}

/** Creates and starts; a container that fails to start is removed again (nothing half-made). */
export async function startContainer(docker: Docker, spec: ContainerSpec): Promise<ContainerInfo> {
  guard(spec);
  const secrets = Object.values(spec.env);
  const container = await call(`create container ${spec.name}`, () => docker.createContainer(createOptions(spec)), secrets);
  try {
    await container.start();
  } catch (err) {
    await container.remove({ force: true }).catch(() => undefined);
    throw upstream(`start container ${spec.name}`, err, secrets);
  }
  const info = await inspectContainer(docker, container.id);
  if (!info) throw upstream(`start container ${spec.name}`, new Error("container vanished after start"));
  return info;
}

/** Stops (SIGTERM, then SIGKILL after timeoutSec) and removes; a container already gone is fine. */
export async function stopAndRemove(docker: Docker, idOrName: string, timeoutSec: number): Promise<void> {
  const c = docker.getContainer(idOrName);
  try {
    await c.stop({ t: timeoutSec });
  } catch (err) {
    // 304: already stopped; 404: already gone.
    if (isNotFound(err)) return;
    if (dockerStatus(err) !== 304) throw upstream(`stop container ${idOrName}`, err);
  }
  try {
    await c.remove({ force: true });
  } catch (err) {
    if (isNotFound(err) || /already in progress/i.test(dockerMessage(err))) return;
    throw upstream(`remove container ${idOrName}`, err);
  }
}

/** Every container (running or not) carrying all of `labels`. */
export async function listContainers(docker: Docker, labels: Record<string, string>): Promise<ContainerInfo[]> {
  const label = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  const rows = await call("list containers", () => docker.listContainers({ all: true, filters: { label } }));
  return rows.map(fromList);
}

/** Log lines of a container (stdout and stderr); a container that does not exist has none. */
export async function* containerLogs(docker: Docker, idOrName: string, opts: LogOptions): AsyncGenerator<string> {
  const c = docker.getContainer(idOrName);
  let tty: boolean;
  try {
    tty = (await c.inspect()).Config.Tty;
  } catch (err) {
    if (isNotFound(err)) return;
    throw upstream(`logs of ${idOrName}`, err);
  }
  if (opts.signal?.aborted) return;
  const base = { stdout: true, stderr: true, tail: Math.max(0, Math.floor(opts.tail)) };
  let body: Buffer | NodeJS.ReadableStream;
  try {
    body = opts.follow
      ? await c.logs({ ...base, follow: true, abortSignal: opts.signal })
      : await c.logs({ ...base, follow: false });
  } catch (err) {
    if (opts.signal?.aborted) return;
    if (isNotFound(err)) return;
    throw upstream(`logs of ${idOrName}`, err);
  }
  // A Tty container writes a raw stream; every other one is framed with 8-byte headers.
  yield* logLines(body as Buffer, !tty, opts.signal);
}
