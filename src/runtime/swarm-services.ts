// Swarm services over dockerode, shaped as the Runtime's containers: one service per ContainerSpec, its running
// tasks' host-mode ports as the upstreams. The manager's engine answers for the whole cluster.
import type Docker from "dockerode";
import { Upstream } from "../lib/errors.ts";
import type { ContainerInfo, ContainerSpec, LogOptions, RegistryAuth } from "./types.ts";
import { call, isNotFound, upstream } from "./docker-errors.ts";
import { logLines } from "./log-stream.ts";
import {
  LOCAL_IMAGE_LABEL,
  STOP_GRACE_SEC,
  nodeAddress,
  serviceSpec,
  targetPort,
  taskUpstreams,
  type ServiceOptions,
  type TaskView,
} from "./swarm-spec.ts";

/** A ContainerInfo with the addresses Caddy dials (one per running task) and the tasks Swarm keeps running. */
export type ServiceInfo = ContainerInfo & { upstreams: string[]; replicas?: number };

/** Node id → address, from one node listing. */
export async function nodeAddresses(docker: Docker): Promise<Map<string, string>> {
  const nodes = await call("list nodes", () => docker.listNodes());
  return new Map(nodes.map((n) => [n.ID as string, nodeAddress(n)]));
}

async function tasksOf(docker: Docker, serviceIds?: string[]): Promise<TaskView[]> {
  const filters: Record<string, string[]> = serviceIds ? { service: serviceIds } : {};
  return (await call("list tasks", () => docker.listTasks({ filters }))) as TaskView[];
}

function infoOf(svc: Docker.Service, tasks: TaskView[], addresses: Map<string, string>): ServiceInfo {
  const spec = svc.Spec as Docker.ServiceSpec & { TaskTemplate?: Docker.ContainerTaskSpec };
  const { [LOCAL_IMAGE_LABEL]: localImage, ...labels } = spec.Labels ?? {};
  const port = targetPort({ env: { PORT: portEnv(svc) } });
  const mine = tasks.filter((t) => t.ServiceID === svc.ID);
  const running = mine.filter((t) => t.Status?.State === "running" && t.DesiredState === "running");
  const upstreams = port ? taskUpstreams(mine, addresses, port) : [];
  const failed = mine.find((t) => ["failed", "rejected"].includes(t.Status?.State ?? ""));
  const at = (running[0] ?? failed)?.NodeID; // a failed task's node still says where the app ran
  const first = at ? addresses.get(at) : undefined;
  return {
    id: svc.ID,
    name: spec.Name ?? "",
    running: running.length > 0,
    exitCode: running.length ? null : (failed?.Status?.ContainerStatus?.ExitCode ?? null),
    ip: upstreams[0]?.replace(/:\d+$/, "") ?? first ?? null,
    labels,
    // The image as core named it (a pushed copy's service runs `<registry>/…@digest`).
    image: localImage ?? spec.TaskTemplate?.ContainerSpec?.Image ?? "",
    upstreams,
    ...(spec.Mode?.Replicated ? { replicas: spec.Mode.Replicated.Replicas ?? 1 } : {}),
  };
}

/** The service and its tasks; undefined only when Docker answers 404. */
export async function inspectService(docker: Docker, id: string): Promise<ServiceInfo | undefined> {
  let svc: Docker.Service;
  try {
    svc = (await docker.getService(id).inspect()) as Docker.Service;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw upstream(`inspect service ${id}`, err);
  }
  const [tasks, addresses] = await Promise.all([tasksOf(docker, [svc.ID]), nodeAddresses(docker)]);
  return infoOf(svc, tasks, addresses);
}

/** Every service carrying all of `labels`, with one task and one node listing for all of them. */
export async function listServices(docker: Docker, labels: Record<string, string>): Promise<ServiceInfo[]> {
  const label = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  const services = (await call("list services", () => docker.listServices({ filters: { label } }))) as Docker.Service[];
  if (!services.length) return [];
  const [tasks, addresses] = await Promise.all([tasksOf(docker), nodeAddresses(docker)]);
  return services.map((s) => infoOf(s, tasks, addresses));
}

/** Polling interval while tasks start: Swarm has no "wait until running" call. */
const POLL_MS = 250;
/** A service whose tasks fail this often before `replicas` run has failed (Swarm would retry forever). */
const MAX_TASK_FAILURES = 3;

/**
 * Creates the service and resolves once `replicas` tasks run and publish their port (or a job's task completed);
 * a service that cannot get there within `timeoutMs` or whose tasks keep failing is removed again.
 */
export async function startService(
  docker: Docker,
  spec: ContainerSpec,
  o: ServiceOptions & { timeoutMs: number; auth?: RegistryAuth },
): Promise<ServiceInfo> {
  const secrets = [...Object.values(spec.env), ...(o.auth ? [o.auth.password] : [])];
  const body = serviceSpec(spec, o);
  // With credentials, as `docker service create --with-registry-auth`: Swarm hands them to each node that pulls.
  const created = await call(
    `create service ${body.Name}`,
    () => (o.auth ? docker.createService({ ...o.auth }, body) : docker.createService(body)),
    secrets,
  );
  const id = (created as { id?: string; ID?: string }).id ?? (created as { ID?: string }).ID!;
  try {
    return await untilRunning(docker, id, spec.restartPolicy === "no" ? 0 : o.replicas, o.timeoutMs);
  } catch (err) {
    await docker
      .getService(id)
      .remove()
      .catch(() => undefined);
    throw err instanceof Upstream ? err : upstream(`start service ${body.Name}`, err, secrets);
  }
}

async function untilRunning(docker: Docker, id: string, replicas: number, timeoutMs: number): Promise<ServiceInfo> {
  const until = Date.now() + timeoutMs;
  let last: ServiceInfo | undefined;
  let why = "";
  while (Date.now() < until) {
    const svc = (await call(`inspect service ${id}`, () => docker.getService(id).inspect())) as Docker.Service;
    const [tasks, addresses] = await Promise.all([tasksOf(docker, [id]), nodeAddresses(docker)]);
    last = infoOf(svc, tasks, addresses);
    const failures = tasks.filter((t) => ["failed", "rejected"].includes(t.Status?.State ?? ""));
    why = failures[0]?.Status?.Err ?? pendingReason(tasks);
    // A job run has started once its one task left the queue (it may already have completed).
    if (replicas === 0 && tasks.some((t) => ["running", "complete", "failed"].includes(t.Status?.State ?? ""))) return last;
    const wantsPort = targetPort({ env: { PORT: portEnv(svc) } }) !== undefined;
    const ready = wantsPort ? last.upstreams.length : tasks.filter((t) => t.Status?.State === "running").length;
    if (replicas > 0 && ready >= replicas) return last;
    // An app that exits at start is the health check's to report (its exit code and last log lines), as a container
    // exiting at once is on one host; a task that never ran (no image, no node) is an error here.
    if (failures.length >= MAX_TASK_FAILURES && failures.some((t) => t.Status?.ContainerStatus?.ExitCode)) return last;
    if (failures.length >= MAX_TASK_FAILURES)
      throw new Upstream("docker", `tasks of ${last.name} keep failing: ${why || "no reason given"}`);
    await Bun.sleep(POLL_MS);
  }
  throw new Upstream(
    "docker",
    `${last?.name ?? id}: ${replicas} task(s) not running within ${timeoutMs / 1000}s${why ? ` (${why})` : ""}`,
  );
}

function portEnv(svc: Docker.Service): string {
  const env = (svc.Spec as { TaskTemplate?: Docker.ContainerTaskSpec }).TaskTemplate?.ContainerSpec?.Env ?? [];
  return env.find((e) => e.startsWith("PORT="))?.slice(5) ?? "";
}

/** Why tasks wait (Swarm's words: "no suitable node (insufficient resources on 2 nodes)"…). */
function pendingReason(tasks: TaskView[]): string {
  const t = tasks.find((t) => t.Status?.State === "pending" && t.Status.Err);
  return t?.Status?.Err ?? "";
}

/**
 * Sets the tasks a replicated service runs (PATCH …/services/{name} replicas): one update at the version read, so a
 * concurrent change is refused rather than overwritten; Swarm starts or stops tasks, nothing else changes.
 */
export async function scaleService(docker: Docker, id: string, replicas: number, auth?: RegistryAuth): Promise<void> {
  const secrets = auth ? [auth.password] : [];
  const svc = (await call(`inspect service ${id}`, () => docker.getService(id).inspect())) as Docker.Service;
  const spec = svc.Spec as Docker.ServiceSpec;
  if (!spec.Mode?.Replicated || spec.Mode.Replicated.Replicas === replicas) return;
  const body = { ...spec, Mode: { Replicated: { Replicas: replicas } } };
  const opts = { _query: { version: svc.Version?.Index }, _body: body };
  const service = docker.getService(id);
  // dockerode's update(auth, options) form (the typings know only update(options)).
  const update = service.update as unknown as (auth: object | undefined, o: object) => Promise<unknown>;
  await call(`scale service ${spec.Name}`, () => update.call(service, auth && { ...auth }, opts), secrets);
}

/**
 * Removes the service (Swarm stops its tasks, SIGTERM then SIGKILL after their grace period); gone is fine. Resolves
 * once the manager's own task containers are gone (as one host's stop-and-remove does), so the image they ran can be
 * removed right after; other nodes' tasks stop on their own.
 */
export async function removeService(docker: Docker, id: string, timeoutSec = 15): Promise<void> {
  try {
    await docker.getService(id).remove();
  } catch (err) {
    if (isNotFound(err)) return;
    throw upstream(`remove service ${id}`, err);
  }
  const filters = { label: [`com.docker.swarm.service.id=${id}`] };
  // Swarm stops a task after the spec's grace period (StopGracePeriod), whatever the caller's timeout says.
  const until = Date.now() + (Math.max(timeoutSec, STOP_GRACE_SEC) + 10) * 1000;
  while (Date.now() < until) {
    const left = await call("list containers", () => docker.listContainers({ all: true, filters }));
    if (!left.length) return;
    // A task container that already exited (a job run's, complete) may outlive its removed service for long: it is
    // an orphan now, removed here; running ones are Swarm's to stop.
    for (const c of left.filter((c) => c.State !== "running"))
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
    await Bun.sleep(POLL_MS);
  }
}

/** Log lines of every task of a service (the manager collects them from the nodes). */
export async function* serviceLogs(docker: Docker, id: string, opts: LogOptions): AsyncGenerator<string> {
  const svc = docker.getService(id);
  const base = { stdout: true, stderr: true, tail: Math.max(0, Math.floor(opts.tail)) };
  let body: unknown;
  try {
    body = opts.follow
      ? await svc.logs({ ...base, follow: true, abortSignal: opts.signal } as Docker.ContainerLogsOptions & { follow: true })
      : await svc.logs({ ...base, follow: false } as Docker.ContainerLogsOptions & { follow: false });
  } catch (err) {
    if (opts.signal?.aborted || isNotFound(err)) return;
    throw upstream(`logs of service ${id}`, err);
  }
  yield* logLines(body as Buffer, true, opts.signal);
}
