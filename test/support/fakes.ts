// In-memory Runtime, Proxy and Git for fast unit and route tests; each `satisfies` its interface.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type {
  BuildSpec,
  ContainerInfo,
  ContainerSpec,
  ListeningSocket,
  LogOptions,
  RegistryAuth,
  Runtime,
} from "../../src/runtime/types.ts";
import type { Proxy, Route } from "../../src/proxy/types.ts";
import type { CloneRequest, Git } from "../../src/build/types.ts";
import { Upstream } from "../../src/lib/errors.ts";
import type { RawStats } from "../../src/runtime/stats.ts";

interface FakeContainer {
  info: ContainerInfo;
  spec: ContainerSpec;
  /** Status the fake app answers with; undefined = connection refused. */
  httpStatus: number | undefined;
  logs: string[];
  /** Sockets the fake app listens on; undefined = it listens wherever it is probed. */
  listening?: ListeningSocket[];
}

/** How a container started from an image behaves (tests set this per image or per env). */
export type Behaviour = {
  running?: boolean;
  exitCode?: number;
  httpStatus?: number;
  logs?: string[];
  listening?: ListeningSocket[];
};

export class FakeRuntime {
  down = false;
  containers = new Map<string, FakeContainer>();
  removed: string[] = [];
  networks = new Set<string>();
  volumes = new Set<string>();
  images = new Map<string, string>(); // ref or id -> id
  builds: BuildSpec[] = [];
  pulls: string[] = [];
  buildDelayMs = 0;
  buildError: Error | undefined;
  /** Behaviour of a container given its spec; default: runs and answers 200. */
  behaviour: (spec: ContainerSpec) => Behaviour = () => ({});
  private seq = 0;

  private check(): void {
    if (this.down) throw new Upstream("docker", "Cannot connect to the Docker daemon (fake)");
  }

  async ping() {
    this.check();
  }
  async ensureNetwork(name: string) {
    this.check();
    this.networks.add(name);
  }
  async removeNetwork(name: string) {
    this.check();
    this.networks.delete(name);
  }
  async ensureVolume(name: string) {
    this.check();
    this.volumes.add(name);
  }
  async removeVolume(name: string) {
    this.check();
    this.volumes.delete(name);
  }

  async buildImage(spec: BuildSpec) {
    this.check();
    this.builds.push(spec);
    spec.onLog("Step 1/1 : FROM scratch");
    const deadline = Date.now() + this.buildDelayMs;
    while (Date.now() < deadline) {
      if (spec.signal?.aborted) throw new Error("build cancelled");
      await Bun.sleep(5);
    }
    if (this.buildError) throw this.buildError;
    const id = `sha256:${(++this.seq).toString(16).padStart(64, "0")}`;
    this.images.set(spec.tag, id);
    this.images.set(id, id);
    spec.onLog(`Successfully built ${id}`);
    return { imageId: id };
  }

  async pullImage(ref: string, _auth: RegistryAuth | undefined, onLog: (l: string) => void) {
    this.check();
    this.pulls.push(ref);
    onLog(`pulling ${ref}`);
    const id = `sha256:${(++this.seq).toString(16).padStart(64, "0")}`;
    this.images.set(ref, id);
    this.images.set(id, id);
    return { imageId: id };
  }

  async findImage(ref: string) {
    this.check();
    return this.images.get(ref);
  }
  async removeImage(ref: string) {
    this.check();
    this.images.delete(ref);
  }

  async startContainer(spec: ContainerSpec): Promise<ContainerInfo> {
    this.check();
    if (!this.images.has(spec.image)) throw new Upstream("docker", `No such image: ${spec.image}`);
    const b = this.behaviour(spec);
    const n = ++this.seq;
    const info: ContainerInfo = {
      id: `c${n.toString(16).padStart(12, "0")}`,
      name: spec.name,
      running: b.running ?? true,
      exitCode: b.exitCode ?? null,
      ip: `10.9.${(n >> 8) & 255}.${n & 255}`,
      labels: { ...spec.labels },
      image: spec.image,
    };
    this.containers.set(info.id, {
      info,
      spec,
      httpStatus: b.httpStatus ?? 200,
      logs: b.logs ?? ["listening"],
      listening: b.listening,
    });
    return { ...info };
  }

  async inspectContainer(id: string) {
    this.check();
    const c = this.containers.get(id);
    return c ? { ...c.info } : undefined;
  }

  async stopAndRemove(id: string) {
    this.check();
    if (this.containers.delete(id)) this.removed.push(id);
  }

  async listContainers(labels: Record<string, string>) {
    this.check();
    return [...this.containers.values()]
      .filter((c) => Object.entries(labels).every(([k, v]) => c.info.labels[k] === v))
      .map((c) => ({ ...c.info }));
  }

  logs(id: string, opts: LogOptions): AsyncIterable<string> {
    const self = this;
    return (async function* () {
      self.check();
      const c = self.containers.get(id);
      for (const l of (c?.logs ?? []).slice(-opts.tail)) yield l;
      while (opts.follow && !opts.signal?.aborted) await Bun.sleep(5);
    })();
  }

  async listeningSockets(id: string): Promise<ListeningSocket[]> {
    this.check();
    return [...(this.containers.get(id)?.listening ?? [])];
  }

  /** A job container: its exit code once it stopped running (behaviour running: false) or was removed (137). */
  async waitContainer(id: string, signal?: AbortSignal): Promise<number> {
    for (;;) {
      const c = this.containers.get(id);
      if (!c) return 137;
      if (!c.info.running) return c.info.exitCode ?? 0;
      if (signal?.aborted) throw new Error("wait aborted");
      await Bun.sleep(5);
    }
  }

  /** Docker stats JSON per container id (tests set it); a running container without one uses nothing. */
  stats = new Map<string, RawStats>();
  async containerStats(id: string): Promise<RawStats | undefined> {
    this.check();
    return this.containers.has(id) ? (this.stats.get(id) ?? {}) : undefined;
  }
  async restartCount(id: string): Promise<number | undefined> {
    return this.containers.has(id) ? 0 : undefined;
  }

  /** The health probe of the fake network: answers for running containers by ip (and a port they listen on to all). */
  probe = async (url: string): Promise<number> => {
    const { hostname: host, port } = new URL(url);
    const c = [...this.containers.values()].find((x) => x.info.ip === host);
    const reachable = !c?.listening || c.listening.some((s) => String(s.port) === port && !/^(127\.|::1$)/.test(s.address));
    if (!c || !c.info.running || c.httpStatus === undefined || !reachable)
      throw new Error(`connect ECONNREFUSED ${host}:${port}`);
    return c.httpStatus;
  };

  running(): ContainerInfo[] {
    return [...this.containers.values()].map((c) => c.info);
  }
}

export class FakeProxy {
  down = false;
  routes = new Map<string, Route>();
  calls: string[] = [];
  async init() {
    if (this.down) throw new Upstream("caddy", "admin API unreachable (fake)");
  }
  async setRoute(r: Route) {
    if (this.down) throw new Upstream("caddy", "admin API unreachable (fake)");
    this.calls.push(`set ${r.id}`);
    this.routes.set(r.id, { ...r, hosts: [...r.hosts] });
  }
  async removeRoute(id: string) {
    if (this.down) throw new Upstream("caddy", "admin API unreachable (fake)");
    this.calls.push(`remove ${id}`);
    this.routes.delete(id);
  }
  async syncRoutes(routes: Route[]) {
    if (this.down) throw new Upstream("caddy", "admin API unreachable (fake)");
    this.calls.push(`sync ${routes.length}`);
    this.routes = new Map(routes.map((r) => [r.id, { ...r, hosts: [...r.hosts] }]));
  }
  async listRoutes() {
    if (this.down) throw new Upstream("caddy", "admin API unreachable (fake)");
    return [...this.routes.values()];
  }
  hasHost(host: string) {
    return [...this.routes.values()].some((r) => r.hosts.includes(host));
  }
}

export class FakeGit {
  clones: CloneRequest[] = [];
  /** Files written into each clone; default: a Dockerfile. */
  files: Record<string, string> = { Dockerfile: "FROM scratch\n" };
  error: Error | undefined;
  async clone(req: CloneRequest) {
    this.clones.push(req);
    if (this.error) throw this.error;
    for (const [name, body] of Object.entries(this.files)) {
      mkdirSync(dirname(join(req.dir, name)), { recursive: true });
      writeFileSync(join(req.dir, name), body);
    }
    req.onLog(`Cloning into '${req.dir}'...`);
    return { commitSha: req.commitSha ?? "0123456789abcdef0123456789abcdef01234567" };
  }
}

// Interface guards: the fakes must stay in step with the real interfaces.
void (new FakeRuntime() satisfies Runtime);
void (new FakeProxy() satisfies Proxy);
void (new FakeGit() satisfies Git);

/** testApp() wired to the fakes, with no drain delay, a short health budget and a scratch data dir. */
export async function fakeApp(env: Record<string, string> = {}) {
  const { testApp } = await import("./ctx.ts");
  const { configureDeployer, idle } = await import("../../src/core/deploy/deployer.ts");
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const runtime = new FakeRuntime();
  const proxy = new FakeProxy();
  const git = new FakeGit();
  const dataDir = mkdtempSync(join(tmpdir(), "staxa-unit-"));
  const app = testApp(
    { runtime, proxy, git },
    { STAXA_DRAIN_SEC: "0", STAXA_DATA_DIR: dataDir, STAXA_ALLOW_FILE_REPOS: "1", ...env },
  );
  configureDeployer(app.deps, { probe: runtime.probe, healthTimeoutMs: 300 });
  return { ...app, runtime, proxy, git, dataDir, idle: () => idle(app.deps) };
}
