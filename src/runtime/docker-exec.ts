// Programs whose streams the appliance reads and feeds (tenant volume backups): docker exec in a running container,
// and short-lived helper containers. Streams are demultiplexed here with backpressure: a dump of any size flows
// through at the pace its consumer takes it, never buffered whole.
import type Docker from "dockerode";
import type { Duplex } from "node:stream";
import type { ExecIo, ExecResult, HelperSpec } from "./types.ts";
import { call, dockerStatus, isNotFound, upstream } from "./docker-errors.ts";
import { Invalid } from "../lib/errors.ts";

const STDERR_KEPT = 4096;
const MiB = 1024 * 1024;
/** Helpers only copy bytes: small limits, whatever the tenant's size. */
const HELPER_LIMITS = { memoryBytes: 256 * MiB, nanoCpus: 1e9, pids: 64 };

/** Splits Docker's multiplexed stream (8-byte headers: stream type, size) into stdout and stderr payloads. */
export async function* demux(source: AsyncIterable<Uint8Array>): AsyncGenerator<{ stream: number; bytes: Buffer }> {
  let buf = Buffer.alloc(0);
  for await (const chunk of source) {
    buf = buf.length ? Buffer.concat([buf, chunk]) : Buffer.from(chunk);
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      yield { stream: buf[0]!, bytes: buf.subarray(8, 8 + size) };
      buf = buf.subarray(8 + size);
    }
  }
}

async function feed(stream: Duplex, stdin: ExecIo["stdin"]): Promise<void> {
  const chunks: AsyncIterable<Uint8Array> | Uint8Array[] = stdin instanceof Uint8Array ? [stdin] : stdin!;
  for await (const c of chunks) {
    if (stream.destroyed) return; // the program exited without reading it all: its exit code says why
    if (!stream.write(c))
      await new Promise<void>((resolve) => {
        stream.once("drain", resolve);
        stream.once("close", resolve);
      });
  }
  if (!stream.destroyed) stream.end(); // half-close: the program reads EOF
}

/** Feeds stdin and drains stdout/stderr of an attached stream until it ends; returns stderr's tail. */
async function pump(stream: Duplex, io: ExecIo): Promise<string> {
  let stderr = "";
  const writing = io.stdin ? feed(stream, io.stdin) : Promise.resolve();
  // A failed write (the program exited early) shows as its exit code; the reader still drains what came.
  writing.catch(() => undefined);
  try {
    for await (const f of demux(stream)) {
      if (f.stream === 2) stderr = (stderr + f.bytes.toString("utf8")).slice(-STDERR_KEPT);
      else if (io.onStdout) await io.onStdout(f.bytes);
    }
  } finally {
    stream.destroy(); // ends a writer still waiting for the program to read
  }
  await writing.catch(() => undefined);
  return stderr;
}

const envList = (env: Record<string, string> = {}) => Object.entries(env).map(([k, v]) => `${k}=${v}`);

/** `docker exec` of argv (never a shell line) in a running container; its exit code and stderr tail. */
export async function execIn(docker: Docker, id: string, argv: string[], io: ExecIo = {}): Promise<ExecResult> {
  const exec = await call(`exec in ${id}`, () =>
    docker.getContainer(id).exec({
      Cmd: argv,
      Env: envList(io.env),
      AttachStdin: !!io.stdin,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    }),
  );
  const stream = (await call(`start exec in ${id}`, () =>
    exec.start({ hijack: true, stdin: !!io.stdin, Tty: false }),
  )) as unknown as Duplex;
  const stderr = await pump(stream, io);
  // The stream ends as the program exits; the engine records the exit code a moment later.
  for (let i = 0; i < 100; i++) {
    const info = await call(`inspect exec in ${id}`, () => exec.inspect());
    if (!info.Running && info.ExitCode !== null) return { exitCode: info.ExitCode, stderr };
    await Bun.sleep(50);
  }
  throw upstream(`exec in ${id}`, new Error("the program's exit code never came"));
}

/** The create body of a helper: no network, no logs (its stdout is backup data), locked down and small. */
export function helperOptions(spec: HelperSpec, withStdin: boolean): Docker.ContainerCreateOptions {
  for (const v of spec.volumes)
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v.name))
      throw new Invalid("volumes", "a volume is a Docker volume name, never a host path");
  return {
    name: spec.name,
    Image: spec.image,
    Entrypoint: [""],
    Cmd: spec.cmd,
    User: "0:0",
    Labels: spec.labels,
    AttachStdin: withStdin,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: withStdin,
    StdinOnce: withStdin,
    Tty: false,
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: "none",
      Memory: HELPER_LIMITS.memoryBytes,
      MemorySwap: HELPER_LIMITS.memoryBytes,
      NanoCpus: HELPER_LIMITS.nanoCpus,
      PidsLimit: HELPER_LIMITS.pids,
      CapDrop: ["ALL"],
      CapAdd: spec.capAdd,
      SecurityOpt: ["no-new-privileges:true"],
      Privileged: false,
      Mounts: spec.volumes.map((v) => ({ Type: "volume" as const, Source: v.name, Target: v.target, ReadOnly: v.readOnly })),
      LogConfig: { Type: "none", Config: {} },
      RestartPolicy: { Name: "no", MaximumRetryCount: 0 },
    },
  };
}

/** Runs a helper container to its exit with its streams attached, then removes it. */
export async function runHelper(docker: Docker, spec: HelperSpec, io: ExecIo = {}): Promise<ExecResult> {
  const c = await call(`create helper ${spec.name}`, () => docker.createContainer(helperOptions(spec, !!io.stdin)));
  try {
    const stream = (await call(`attach helper ${spec.name}`, () =>
      c.attach({ stream: true, hijack: true, stdin: !!io.stdin, stdout: true, stderr: true }),
    )) as unknown as Duplex;
    await call(`start helper ${spec.name}`, () => c.start());
    const stderr = await pump(stream, io);
    const r = (await call(`wait for helper ${spec.name}`, () => c.wait())) as { StatusCode: number };
    return { exitCode: r.StatusCode, stderr };
  } finally {
    await c.remove({ force: true }).catch(() => undefined);
  }
}

export async function stopContainer(docker: Docker, id: string, timeoutSec: number): Promise<void> {
  try {
    await docker.getContainer(id).stop({ t: timeoutSec });
  } catch (err) {
    if (dockerStatus(err) !== 304) throw upstream(`stop container ${id}`, err); // 304: already stopped
  }
}

export async function startStopped(docker: Docker, id: string): Promise<void> {
  try {
    await docker.getContainer(id).start();
  } catch (err) {
    if (dockerStatus(err) !== 304 || isNotFound(err)) throw upstream(`start container ${id}`, err); // 304: already running
  }
}
