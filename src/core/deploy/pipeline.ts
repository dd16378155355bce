// One deployment, as named steps: provision → obtainImage (build | pull | reuse) → startCandidate →
// checkHealth → switchRoute → markLive → retireOld. A failing step leaves whatever served before serving.
import { mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Ctx } from "../context.ts";
import type { ContainerInfo } from "../../runtime/types.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import * as deployments from "../../store/deployments.ts";
import { nowIso } from "../../lib/ids.ts";
import { AppError } from "../../lib/errors.ts";
import { namesRegistry } from "../../lib/image-ref.ts";
import { planBuild } from "../../build/plan.ts";
import { assertPlanAllowed } from "../../build/dockerfile-policy.ts";
import { BuildPlanError } from "../../build/types.ts";
import { RepoTree } from "../../build/tree.ts";
import { BuildLogSink } from "./build-log.ts";
import { candidateSpec, servicePort } from "./container-plan.ts";
import { signalFor } from "./deployer.ts";
import { tailLogs, waitHealthy } from "./health.ts";
import { mountsOf } from "./volumes.ts";
import { imageTag, labels, networkName } from "../resources.ts";
import { routeFor } from "../domains/routes.ts";
import { moveDeployment, moveService, moveTenant } from "./states.ts";
import { openEnv, redactEnvValues } from "../env-vars.ts";
import { finishFailed, finishSucceeded, makeLive, type Run } from "./finish.ts";
import { cloneSourceFor } from "../github/source.ts";
import { mayBePrivate, registryAuthFor } from "../registries/registries.ts";
import { enforceEgressBeforeStart, reapplyTenantRules } from "../network/enforcement.ts";
import { provisionNetwork } from "../network/subnets.ts";
import { afterDeploy, roomToBuild } from "./retention.ts";
import { stageBudgetSec, StepStopped, withinDeadline } from "./stage-deadline.ts";
import { beginRolling, firstReplica, recordReplicas, rollReplicas, rollingUpstreams } from "./rolling.ts";

/** A step failed for a reason the user should read; `data` lands in the error event. */
export class StageFailure extends Error {
  constructor(
    readonly stage: string,
    message: string,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Runs deployment `depId` to succeeded or failed. Never throws: every failure is recorded. */
export async function runDeployment(ctx: Ctx, tenantId: string, depId: string): Promise<void> {
  const dep = deployments.find(ctx.db, tenantId, depId);
  if (!dep || dep.status !== "queued") return;
  const tenant = tenants.findById(ctx.db, tenantId);
  const service = services.findById(ctx.db, dep.service_id);
  const started = Date.now();
  const run: LoggedRun = {
    ctx,
    tenant: tenant!,
    service: service!,
    dep,
    signal: signalFor(ctx, tenantId),
    timings: {},
    started,
    stage: "provision",
    log: new BuildLogSink(ctx.db, depId),
  };
  if (!tenant || !service || tenant.status === "deleting") {
    moveDeployment(ctx.db, dep, "failed", { reason: "tenant is being deleted", finished_at: nowIso() });
    return;
  }
  let candidate: ContainerInfo | undefined;
  try {
    begin(run);
    await timed(run, "provision", () => provision(run));
    const image = await obtainImage(run);
    setStatus(run, "deploying");
    const port = servicePort(tenant, service, image.port);
    deployments.update(ctx.db, dep.id, { port });
    if (mountsOf(service).length) await timed(run, "deploy", () => stopHolderOfVolumes(run));
    candidate = await timed(run, "deploy", () => startCandidate(run, image.imageId, port));
    const live = await timed(run, "health", () => checkHealth(run, candidate!, port));
    const rolling = beginRolling(run); // replicas: one at a time, each healthy before an old one goes
    firstReplica(rolling, candidate, live);
    // A cluster engine's candidate is every replica at once (its tasks' addresses); it rolls no containers itself.
    await timed(run, "route", () =>
      switchRoute(run, candidate!.upstreams?.length ? candidate!.upstreams : rollingUpstreams(rolling)),
    );
    if (!ctx.runtime.cluster && (rolling.want > 1 || rolling.olds.size > 1))
      await timed(run, "replicas", () => rollReplicas(run, rolling, image.imageId, live));
    const old = makeLive(run, candidate, { port: live, image: image.imageId });
    recordReplicas(run, rolling);
    await reapplyTenantRules(ctx, tenant.id); // inbound ports follow the new container; never throws
    finishSucceeded(run);
    await retireOld(run, old);
    await afterDeploy(ctx, tenant, service); // image retention: never throws
  } catch (e) {
    const f = e instanceof StageFailure ? e : new StageFailure(run.stage, describe(e)); // StepStopped: "cancelled by …" / "timed out after N s in …"
    if (candidate) await ctx.runtime.stopAndRemove(candidate.id, 0).catch(() => undefined);
    const shown = redactEnvValues(ctx.box, [tenant.env_enc, service.env_enc], { message: f.message, data: f.data }); // the app's log tail may print its env
    finishFailed(run, f.stage, shown.message, shown.data);
    run.log.line(`[error] ${f.stage} failed: ${shown.message}`);
  } finally {
    run.log.flush();
  }
}

/** A run with the deployment's build log: what happened, in order, up to the failure line (GET …/logs). */
type LoggedRun = Run & { log: BuildLogSink };

function begin(run: Run): void {
  const { ctx, tenant, dep } = run;
  deployments.update(ctx.db, dep.id, { started_at: nowIso() });
  moveTenant(ctx.db, tenant, "deploying", { status_reason: null, updated_at: nowIso() });
  ctx.bus.notify({
    event: "deployment.started",
    provider_id: tenant.provider_id,
    mode: tenant.mode,
    tenant_id: tenant.id,
    data: { deployment_id: dep.id, service: dep.service_name },
  });
}

export function emit(run: Run, stage: string, status: string, message: string, data?: Record<string, unknown>): void {
  if ("log" in run) (run as LoggedRun).log.line(`[${stage}] ${message}`);
  run.ctx.bus.emit({
    tenantId: run.tenant.id,
    deploymentId: run.dep.id,
    service: run.service.name,
    stage,
    status,
    message,
    data,
  });
}

function setStatus(run: Run, to: "building" | "deploying"): void {
  moveDeployment(run.ctx.db, run.dep, to);
}

async function timed<T>(run: Run, stage: string, fn: () => Promise<T>): Promise<T> {
  run.stage = stage;
  if (run.signal.aborted) throw new StageFailure(stage, describe(run.signal.reason));
  const t0 = Date.now();
  try {
    // A deadline per step; "build" is clone + image build (or pull), each with its own below.
    // Once the route switch has begun it finishes (cancelled halfway, the candidate would go while routed to).
    return await step(
      run,
      stage,
      stage === "build" ? undefined : stageBudgetSec(run.ctx.config, stage),
      () => fn(),
      stage !== "route",
    );
  } finally {
    run.timings[`${stage}_ms`] = Date.now() - t0;
  }
}

/** `work` under its deadline and the deployment's cancel signal; stopped, it fails the stage with the reason. */
function step<T>(
  run: Run,
  name: string,
  sec: number | undefined,
  work: (signal: AbortSignal) => Promise<T>,
  cancellable = true,
): Promise<T> {
  return withinDeadline(name, sec, cancellable ? run.signal : new AbortController().signal, work).catch((e) => {
    throw e instanceof StepStopped ? new StageFailure(run.stage, e.message) : e;
  });
}

async function provision(run: Run): Promise<void> {
  const net = networkName(run.tenant.name);
  emit(run, "provision", "running", `Preparing network ${net}`);
  await provisionNetwork(run.ctx, run.tenant); // on a subnet of the appliance's own pool, never Docker's default pools
  await enforceEgressBeforeStart(run.ctx, run.tenant.id); // a restricted tenant is restricted before any container starts
  for (const v of mountsOf(run.service)) await run.ctx.runtime.ensureVolume(v.name, labels(run.tenant, run.service.name));
  emit(run, "provision", "done", `Network ${net} ready`);
}

/** The image to run: reused (rollback, env change), pulled/found (image source) or built (git source). */
async function obtainImage(run: Run): Promise<{ imageId: string; port?: number }> {
  const { ctx, dep, service } = run;
  const found = dep.image_id ? await ctx.runtime.findImage(ownImage(dep) ?? dep.image_id) : undefined;
  if (dep.image_id && !found) rebuildInstead(run); // removed by retention: built again from its commit, or pulled
  if (dep.image_id && found) {
    run.stage = "deploy";
    const source = deployments.find(ctx.db, run.tenant.id, dep.rollback_from ?? service.current_deployment_id ?? "");
    if (!dep.framework && source?.framework) deployments.update(ctx.db, dep.id, { framework: source.framework }); // rollbacks keep it
    emit(
      run,
      "deploy",
      "running",
      dep.rollback_from ? `Rolling back to the image of ${dep.rollback_from} (no build)` : "Reusing the running image (no build)",
      { image_id: found },
    );
    return { imageId: found, port: dep.port ?? undefined };
  }
  const low = await roomToBuild(ctx); // the disk guard: refused before anything is written
  if (low) throw new StageFailure("build", low.message, low.data);
  setStatus(run, "building");
  return timed(run, "build", () => (service.source_type === "image" ? pull(run) : build(run)));
}

/** The tag a reused image is found by when it is one of ours (by id, another tenant's identical build would do). */
function ownImage(dep: { image: string | null }): string | undefined {
  return dep.image?.startsWith("staxa/") ? dep.image : undefined;
}

/** A rollback whose image is gone: this deployment builds its commit again, or pulls its reference again. */
function rebuildInstead(run: Run): void {
  const { dep } = run;
  const what = `The image of ${dep.rollback_from ?? "the previous deployment"} is no longer on this server`;
  if (run.service.source_type === "image" ? !dep.image || ownImage(dep) : !dep.commit_sha)
    throw new StageFailure(
      "deploy",
      `${what}, and it has no commit or image reference to recreate it from; deploy from source instead`,
    );
  emit(
    run,
    "build",
    "running",
    run.service.source_type === "image"
      ? `${what}: pulling ${dep.image} again`
      : `${what}: building commit ${dep.commit_sha!.slice(0, 12)} again`,
  );
  deployments.update(run.ctx.db, dep.id, { image_id: null, ...(run.service.source_type === "image" ? {} : { image: null }) });
  Object.assign(dep, {
    image_id: null,
    requested_sha: dep.commit_sha,
    ...(run.service.source_type === "image" ? {} : { image: null }),
  });
}

async function pull(run: Run): Promise<{ imageId: string }> {
  const ref = run.dep.image ?? run.service.image_url!; // a rollback pulls what its deployment ran
  const sink = (run as LoggedRun).log;
  try {
    // An image from a named registry is pulled every time, with this provider's credential if it has one: the
    // registry must authorize THIS provider, or a private image another provider pulled earlier would run from cache.
    const auth = registryAuthFor(run.ctx, run.tenant.provider_id, run.tenant.mode, ref);
    const mustPull = auth || namesRegistry(ref) || mayBePrivate(run.ctx, ref);
    let imageId = mustPull ? undefined : await run.ctx.runtime.findImage(ref);
    if (imageId) emit(run, "build", "running", `Using local image ${ref}`);
    else {
      emit(run, "build", "running", `Pulling ${ref}`);
      const sec = run.ctx.config.pullTimeoutSec;
      imageId = (
        await step(run, "pull", sec, (signal) =>
          run.ctx.runtime.pullImage(ref, auth, sink.line, { timeoutMs: (sec + 5) * 1000, signal }),
        )
      ).imageId;
    }
    deployments.update(run.ctx.db, run.dep.id, { image: ref, image_id: imageId, framework: "image" });
    emit(run, "build", "done", `Image ${ref} ready`, { image_id: imageId });
    return { imageId };
  } finally {
    sink.flush();
  }
}

async function build(run: Run): Promise<{ imageId: string; port?: number }> {
  const { ctx, dep, service, tenant } = run;
  const dir = join(ctx.config.dataDir, "builds", dep.id);
  const sink = (run as LoggedRun).log;
  const d = ctx.deployer;
  try {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const branch = dep.branch ?? service.branch;
    emit(run, "build", "running", `Cloning ${branch}${dep.requested_sha ? ` at ${dep.requested_sha}` : ""}`);
    const source = await cloneSourceFor(ctx, tenant, service.repo_url!); // a GitHub App repo clones with an installation token
    const { commitSha } = await step(run, "clone", ctx.config.cloneTimeoutSec, () =>
      ctx.git.clone({
        repoUrl: source.repoUrl,
        token: source.token,
        branch,
        commitSha: dep.requested_sha ?? undefined,
        dir,
        timeoutMs: (ctx.config.cloneTimeoutSec + 5) * 1000,
        onLog: sink.line,
      }),
    );
    deployments.update(ctx.db, dep.id, { commit_sha: commitSha });
    let plan;
    try {
      plan = await planBuild(contextDir(dir, service.build_context), {
        images: baseImages(ctx),
        npmRegistry: ctx.config.npmRegistry,
      });
      assertPlanAllowed(plan); // remote ADD, `# syntax=`, image ids and staxa/ refused before the daemon sees the file
    } catch (e) {
      if (e instanceof BuildPlanError) {
        if (e.framework) deployments.update(ctx.db, dep.id, { framework: e.framework });
        sink.line(e.message);
        throw new StageFailure("build", e.message);
      }
      throw e;
    }
    deployments.update(ctx.db, dep.id, { framework: plan.framework }); // also when the build below fails
    const tag = imageTag(tenant.name, service.name, dep.id);
    // The user sees exactly what was built: a generated Dockerfile goes into the build log before the build.
    if (plan.generatedDockerfile)
      for (const l of [
        `--- generated ${plan.dockerfile} (${plan.framework}) ---`,
        ...plan.generatedDockerfile.trimEnd().split("\n"),
        "---",
      ])
        sink.line(l);
    emit(
      run,
      "build",
      "running",
      `Detected ${plan.framework}; building at ${commitSha.slice(0, 12)}${plan.generatedDockerfile ? " with a generated Dockerfile (see the build log)" : ""}`,
      { commit_sha: commitSha, framework: plan.framework },
    );
    // No image labels: nothing reads them (containers carry staxa.* themselves, images are found by tag), and the
    // classic builder turns even one label into a committed step (~50 ms of every deploy; bench/deploy).
    const { imageId } = await d.queue.withBuildSlot(() =>
      step(run, "build", ctx.config.buildTimeoutSec, (signal) =>
        ctx.runtime.buildImage({
          contextDir: plan.contextDir,
          dockerfile: plan.dockerfile,
          tag,
          labels: {},
          tagStages: true, // stages go with the image
          memoryBytes: ctx.config.buildMemoryMb * 1024 * 1024,
          cpus: ctx.config.buildCpus,
          timeoutMs: (ctx.config.buildTimeoutSec + 5) * 1000,
          onLog: sink.line,
          signal,
          buildArgs: plan.buildArgs,
        }),
      ),
    );
    deployments.update(ctx.db, dep.id, { image: tag, image_id: imageId, framework: plan.framework });
    emit(run, "build", "done", `Built ${tag}`, { image_id: imageId, commit_sha: commitSha });
    return { imageId, port: plan.port };
  } finally {
    sink.flush();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The build directory inside the clone (compose `build:`); a link leading out of the clone is refused. */
function contextDir(dir: string, rel: string | null): string {
  if (!rel) return dir;
  const inside = new RepoTree(dir).resolve(rel);
  if (!inside || !statSync(inside).isDirectory())
    throw new StageFailure("build", `Build context "${rel}" is not a directory inside the repository`);
  return inside;
}

function baseImages(ctx: Ctx) {
  const c = ctx.config;
  return {
    node: c.builderNodeImage,
    bun: c.builderBunImage,
    python: c.builderPythonImage,
    go: c.builderGoImage,
    static: c.runtimeStaticImage,
    goRuntime: c.runtimeGoImage,
  };
}

async function startCandidate(run: Run, imageId: string, port: number): Promise<ContainerInfo> {
  const { ctx, tenant, service, dep } = run;
  const env = { ...openEnv(ctx.box, tenant.env_enc), ...openEnv(ctx.box, service.env_enc) };
  const spec = candidateSpec({ tenant, service, deploymentId: dep.id, image: imageId, env, port });
  emit(run, "deploy", "running", `Starting ${spec.name}`);
  const info = await ctx.runtime.startContainer(spec);
  deployments.update(ctx.db, dep.id, { container_id: info.id });
  emit(run, "deploy", "done", `Container ${spec.name} started`, { container: spec.name });
  return info;
}

/**
 * A volume is never mounted by two containers at once (two databases on one data directory corrupt it):
 * a service with volumes is replaced stop-then-start, a short gap instead of zero-downtime.
 */
async function stopHolderOfVolumes(run: Run): Promise<void> {
  const { ctx, service } = run;
  const current = services.findById(ctx.db, service.id);
  const old = current?.container_id;
  if (!current || !old) return;
  emit(run, "deploy", "running", `Stopping the running container first: its volumes are not shared with the new one`, {
    container: old,
  });
  await ctx.runtime.stopAndRemove(old, 10);
  moveService(ctx.db, current, "stopped", { container_id: null, container_ip: null, updated_at: nowIso() });
}

/** Healthy on `port`, or on the one other port the app opened when no port was configured: the port it serves on. */
async function checkHealth(run: Run, c: ContainerInfo, port: number): Promise<number> {
  const { ctx, service } = run;
  if (!service.is_routable && service.port === null && !service.healthcheck) return checkRunning(run, c).then(() => port);
  const ip = c.ip ?? (await ctx.runtime.inspectContainer(c.id))?.ip;
  const path = (service.healthcheck ? (JSON.parse(service.healthcheck).path as string) : undefined) ?? ctx.config.healthPath;
  const [first, ...others] = c.upstreams?.length ? c.upstreams : [`${ip}:${port}`]; // a cluster engine: every task
  const url = `http://${first}${path}`;
  emit(run, "health", "running", `Waiting for GET ${url} to answer`);
  const d = ctx.deployer;
  const timeoutMs = d.healthTimeoutMs ?? ctx.config.healthTimeoutSec * 1000;
  const failure = await waitHealthy(ctx.runtime, d.probe, { id: c.id, url, timeoutMs, signal: run.signal });
  c.ip = ip ?? null;
  if (!failure) {
    emit(run, "health", "done", `${url} answered`);
    for (const other of others) {
      const f = await waitHealthy(ctx.runtime, d.probe, {
        id: c.id,
        url: `http://${other}${path}`,
        timeoutMs,
        signal: run.signal,
      });
      if (f) throw new StageFailure("health", `Health check failed at ${other}: ${f.message}`, { ...f });
    }
    return port;
  }
  const configured = service.port ?? (service.is_primary ? run.tenant.app_port : null);
  const other = failure.listens_on_port;
  if (other && configured === null) {
    const otherUrl = `http://${ip}:${other}${path}`;
    if (
      !(await waitHealthy(ctx.runtime, d.probe, {
        id: c.id,
        url: otherUrl,
        timeoutMs: Math.min(timeoutMs, 10_000),
        signal: run.signal,
      }))
    ) {
      deployments.update(ctx.db, run.dep.id, { port: other });
      emit(
        run,
        "health",
        "done",
        `${otherUrl} answered: the app listens on port ${other}, not on ${port}, so it is served on ${other} (recorded as this deployment's port)`,
        { port: other },
      );
      return other;
    }
  }
  throw new StageFailure("health", `Health check failed: ${failure.message}`, { ...failure });
}

/** A worker (no port, not routable, no healthcheck): healthy when it is still running after a moment. */
async function checkRunning(run: Run, c: ContainerInfo): Promise<void> {
  emit(run, "health", "running", "No port to probe: checking that the container keeps running");
  await Bun.sleep(Math.min(1000, run.ctx.deployer.healthTimeoutMs ?? 1000));
  const info = await run.ctx.runtime.inspectContainer(c.id);
  if (!info?.running)
    throw new StageFailure("health", `container exited with code ${info?.exitCode ?? "unknown"}`, {
      exit_code: info?.exitCode ?? null,
      logs: await tailLogs(run.ctx.runtime, c.id),
    });
  c.ip = info.ip;
  emit(run, "health", "done", "Container is running");
}

/** The new container takes the old one's place in the route (other replicas still serving stay in it). */
async function switchRoute(run: Run, upstreams: string[]): Promise<void> {
  if (!run.service.is_routable) return;
  const route = routeFor(run.ctx, run.tenant, run.service, upstreams);
  emit(run, "route", "running", `Routing ${route.hosts.join(", ")} to the new container`);
  await run.ctx.proxy.setRoute(route);
  emit(run, "route", "done", `${route.hosts[0]} now served by the new container`, { upstream: route.upstream });
}

/** Old container keeps serving in-flight requests for drainSec, then goes. */
async function retireOld(run: Run, oldId: string | null): Promise<void> {
  if (!oldId) return;
  if (run.ctx.config.drainSec > 0) await Bun.sleep(run.ctx.config.drainSec * 1000);
  await run.ctx.runtime
    .stopAndRemove(oldId, 10)
    .catch((e) => run.ctx.log.warn("old container not removed; reconciliation will", { container: oldId, error: describe(e) }));
}

export function describe(e: unknown): string {
  if (e instanceof AppError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
