// The Runtime interface core speaks to. The single-host Docker engine implements it (docker.ts);
// a multi-node engine could stand beside it. Specs are plain data built by pure functions.
import type { RawStats } from "./stats.ts";
import type { Cluster } from "./cluster.ts";

export interface VolumeMount {
  /** Docker volume name (never a host path). */
  name: string;
  target: string;
}

export interface ContainerSpec {
  name: string;
  image: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  network: string;
  /** DNS names on the tenant network (the service name). */
  aliases: string[];
  memoryBytes: number;
  nanoCpus: number;
  pidsLimit: number;
  /** Capabilities added back after dropping ALL. */
  capAdd: string[];
  cmd?: string[];
  user?: string;
  volumes: VolumeMount[];
  restartPolicy: "unless-stopped" | "on-failure" | "no";
  /** Tasks a cluster engine runs of this spec (swarm; default 1). The single-host engine starts one container. */
  replicas?: number;
}

export interface ContainerInfo {
  id: string;
  name: string;
  running: boolean;
  exitCode: number | null;
  /** IP on the tenant network, when attached. */
  ip: string | null;
  labels: Record<string, string>;
  image: string;
  oomKilled?: boolean;
  /** Where the app answers when the engine publishes it itself (swarm: `<node address>:<host port>` per running task). */
  upstreams?: string[];
  /** Tasks a cluster engine keeps running of it (swarm's service replicas); absent on one host. */
  replicas?: number;
}

export interface BuildSpec {
  /** Directory holding the build context (the cloned repo, or its root dir). */
  contextDir: string;
  /** Dockerfile path relative to contextDir. */
  dockerfile: string;
  tag: string;
  labels: Record<string, string>;
  memoryBytes: number;
  cpus: number;
  timeoutMs: number;
  buildArgs?: Record<string, string>;
  onLog: (line: string) => void;
  signal?: AbortSignal;
  /** Tag the earlier stages of a multi-stage build `<tag>-stage<n>`, so removing the build's tags frees them too. */
  tagStages?: boolean;
}

export interface PullOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A tag of a local image. `created` in unix seconds. */
export interface ImageTag {
  ref: string;
  id: string;
  created: number;
}

/** What the engine's images and build cache take (`docker system df`), and the dangling images among them. */
export interface EngineDisk {
  imagesBytes: number;
  buildCacheBytes: number;
  dangling: Array<{ id: string; created: number; bytes: number }>;
}

export interface RegistryAuth {
  serveraddress: string;
  username: string;
  password: string;
}

/** A TCP socket a container listens on: the address it bound ("0.0.0.0", "::", "127.0.0.1"…) and the port. */
export interface ListeningSocket {
  address: string;
  port: number;
}

export interface LogOptions {
  tail: number;
  follow: boolean;
  signal?: AbortSignal;
}

/** A short-lived helper container (volume backups): no network, every capability dropped but `capAdd`, no logs kept. */
export interface HelperSpec {
  name: string;
  image: string;
  /** argv, run instead of the image's entrypoint and command. */
  cmd: string[];
  volumes: Array<VolumeMount & { readOnly: boolean }>;
  capAdd: string[];
  labels: Record<string, string>;
}

/** A program's streams: stdin fed then closed, stdout handed over in order (awaited), stderr's tail kept. */
export interface ExecIo {
  env?: Record<string, string>;
  stdin?: Uint8Array | AsyncIterable<Uint8Array>;
  /** Absent: stdout is dropped. */
  onStdout?: (chunk: Uint8Array) => Promise<void> | void;
}

export interface ExecResult {
  exitCode: number;
  /** The last 4 KiB of stderr (explains a failure). */
  stderr: string;
}

export interface Runtime {
  /** The cluster's nodes, on a cluster engine (swarm); absent on one host. */
  cluster?: Cluster;
  /** Throws Upstream when the engine does not answer. */
  ping(): Promise<void>;
  /**
   * Creates the network unless it exists; `subnet` (CIDR) from the appliance's pool. Returns the network's IPv4
   * subnet when known. A subnet another network overlaps throws Conflict with code "subnet_taken".
   */
  ensureNetwork(name: string, labels: Record<string, string>, subnet?: string): Promise<string | undefined | void>;
  removeNetwork(name: string): Promise<void>;
  ensureVolume(name: string, labels: Record<string, string>): Promise<void>;
  removeVolume(name: string): Promise<void>;
  buildImage(spec: BuildSpec): Promise<{ imageId: string }>;
  pullImage(
    ref: string,
    auth: RegistryAuth | undefined,
    onLog: (line: string) => void,
    opts?: PullOptions,
  ): Promise<{ imageId: string }>;
  /** Image id when present locally, else undefined. */
  findImage(ref: string): Promise<string | undefined>;
  removeImage(ref: string): Promise<void>;
  /** Every local tag in these repositories (`staxa/<tenant>-<service>`). */
  listImageTags?(repos: string[]): Promise<ImageTag[]>;
  /** Images and build cache on disk (one `system df`). */
  engineDisk?(): Promise<EngineDisk>;
  /** Docker's own prune of dangling images created before `before` (unix s); returns the bytes freed. */
  pruneDangling?(before: number): Promise<number>;
  /** Prunes the BuildKit cache down to `keepBytes`; returns the bytes freed. */
  pruneBuildCache?(keepBytes: number): Promise<number>;
  /** The engine's data root on this host (DockerRootDir). */
  dataRoot?(): Promise<string>;
  /** Creates and starts; returns the started container. */
  startContainer(spec: ContainerSpec): Promise<ContainerInfo>;
  /** A cluster engine's service runs `replicas` tasks from now on (PATCH replicas); absent on one host. */
  scaleService?(id: string, replicas: number): Promise<void>;
  /** undefined only when Docker says the container does not exist (404); other errors throw. */
  inspectContainer(idOrName: string): Promise<ContainerInfo | undefined>;
  stopAndRemove(idOrName: string, timeoutSec: number): Promise<void>;
  listContainers(labels: Record<string, string>): Promise<ContainerInfo[]>;
  /** IPv4 subnet (CIDR) of a network, undefined when it does not exist; feeds the egress firewall. */
  networkSubnet?(name: string): Promise<string | undefined>;
  /** Every network with its IPv4 subnet (start-up recovery of the subnet pool: one call). */
  listNetworks?(): Promise<Array<{ name: string; subnet: string | undefined; labels: Record<string, string> }>>;
  /** Destinations (CIDR) the host routes somewhere other than a Docker bridge; the subnet pool skips them. */
  hostRoutes?(): Promise<string[]>;
  /** TCP sockets the container listens on (explains a failed health check); empty when unknown. */
  listeningSockets?(idOrName: string): Promise<ListeningSocket[]>;
  /** Log lines (stdout+stderr demultiplexed); stops when the signal aborts. */
  logs(idOrName: string, opts: LogOptions): AsyncIterable<string>;
  /** Waits for the container to exit; its exit code. The signal stops the wait, not the container (job runs). */
  waitContainer?(id: string, signal?: AbortSignal): Promise<number>;
  /** One resource sample (Docker's stats JSON); undefined when the container is gone (live usage). */
  containerStats?(id: string): Promise<RawStats | undefined>;
  /** How often Docker restarted the container; undefined when it is gone (live usage's restart flag). */
  restartCount?(id: string): Promise<number | undefined>;
  /** Runs argv in a running container (docker exec; tenant volume backups). */
  exec?(idOrName: string, argv: string[], io?: ExecIo): Promise<ExecResult>;
  /** Creates, runs to its exit and removes a helper container. */
  runHelper?(spec: HelperSpec, io?: ExecIo): Promise<ExecResult>;
  /** Stops a container, keeping it (an already stopped one is fine). */
  stopContainer?(id: string, timeoutSec: number): Promise<void>;
  /** Starts a stopped container again. */
  startStopped?(id: string): Promise<void>;
}
