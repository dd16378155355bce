// One run of a job: the concurrency decision, a one-off container from the service's live image with the
// tenant's and the service's env under the service's limits, then (in the background) its exit, logs, removal.
import type { Ctx } from "../context.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import * as jobs from "../../store/jobs.ts";
import type { JobRow, JobRunRow, RunTrigger } from "../../store/jobs.ts";
import { randomAlnum, nowIso } from "../../lib/ids.ts";
import { Conflict } from "../../lib/errors.ts";
import { jobContainerSpec, type ResourceSize } from "../../runtime/container-spec.ts";
import { networkName } from "../resources.ts";
import { openEnv, redactEnvValues } from "../env-vars.ts";
import { decide } from "./policy.ts";

/** What a run keeps of its output: the last lines, at most this many bytes (the tail is what explains an exit). */
export const RUN_LOG_LINES = 200;
export const RUN_LOG_BYTES = 64 * 1024;

export const runId = () => `run_${randomAlnum(16)}`;

/**
 * Starts one run of `job` now. A scheduled fire that cannot run is recorded (skipped or failed) and returned;
 * a manual one (run-now) throws 409 instead. The container's exit is awaited in the background.
 */
export async function startRun(
  ctx: Ctx,
  job: JobRow,
  trigger: RunTrigger,
  opts: { scheduledFor?: string; note?: string } = {},
): Promise<JobRunRow> {
  const started = ctx.now();
  const base: JobRunRow = {
    id: runId(),
    job_id: job.id,
    tenant_id: job.tenant_id,
    trigger,
    status: "running",
    image: null,
    container_id: null,
    exit_code: null,
    logs: null,
    reason: opts.note ?? null,
    scheduled_for: opts.scheduledFor ?? null,
    started_at: nowIso(started),
    finished_at: null,
    duration_ms: null,
  };
  const ended = (status: JobRunRow["status"], reason: string): JobRunRow => {
    const row = {
      ...base,
      status,
      reason: opts.note ? `${opts.note}; ${reason}` : reason,
      finished_at: base.started_at,
      duration_ms: 0,
    };
    jobs.insertRun(ctx.db, row);
    return row;
  };
  const tenant = tenants.findById(ctx.db, job.tenant_id);
  const service = tenant ? services.find(ctx.db, tenant.id, job.service) : undefined;
  if (!tenant || tenant.status === "deleting") return ended("skipped", "the tenant is being deleted");
  if (!service?.live_image) {
    if (trigger === "manual")
      throw new Conflict(
        `Service "${job.service}" has no live deployment to run the job from`,
        { field: "service" },
        "no_live_deployment",
      );
    return ended("failed", `service "${job.service}" has no live deployment to run the job from`);
  }
  const decision = decide(
    job.concurrency_policy,
    jobs.listRunning(ctx.db, job.id).map((r) => r.id),
  );
  if (decision.action === "skip") {
    if (trigger === "manual") throw new Conflict(`Not started: ${decision.reason}`, {}, "job_running");
    return ended("skipped", decision.reason);
  }
  if (decision.action === "replace") {
    for (const id of decision.stop) await stopRun(ctx, job.id, id, `replaced by run ${base.id}`);
  }
  // The live image id and the env as they are now: a job follows the service's current deployment.
  const env = { ...openEnv(ctx.box, tenant.env_enc), ...openEnv(ctx.box, service.env_enc) };
  const spec = jobContainerSpec({
    tenant: tenant.name,
    service: service.name,
    jobId: job.id,
    runId: base.id,
    image: service.live_image,
    env,
    command: JSON.parse(job.command),
    resourceSize: (service.resource_size || tenant.resource_size) as ResourceSize,
    network: networkName(tenant.name),
    labels: { "staxa.tenant_id": tenant.id },
  });
  const row: JobRunRow = { ...base, image: service.live_image };
  jobs.insertRun(ctx.db, row);
  let id: string;
  try {
    id = (await ctx.runtime.startContainer(spec)).id;
  } catch (e) {
    // startContainer's errors carry no env value (docker-errors scrubs them).
    finish(ctx, row, { status: "failed", reason: `container did not start: ${(e as Error).message}` });
    return jobs.findRun(ctx.db, job.id, row.id) ?? row;
  }
  jobs.finishRun(ctx.db, row.id, { container_id: id });
  void watch(ctx, job, { ...row, container_id: id }, [tenant.env_enc, service.env_enc]).catch((e) =>
    ctx.log.error("job run: watch failed", { run_id: row.id, error: (e as Error).message }),
  );
  return { ...row, container_id: id };
}

/** Waits for the exit (or the timeout), keeps the tail of the logs, removes the container. */
async function watch(ctx: Ctx, job: JobRow, run: JobRunRow, sealed: Array<string | null>): Promise<void> {
  const id = run.container_id!;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), job.timeout_sec * 1000);
  let exit: number | null = null;
  let timedOut = false;
  try {
    exit = await ctx.runtime.waitContainer!(id, abort.signal);
  } catch (e) {
    if (abort.signal.aborted) timedOut = true;
    else ctx.log.warn("job run: wait failed", { run_id: run.id, error: (e as Error).message });
  } finally {
    clearTimeout(timer);
  }
  const logs = await tailLogs(ctx, id).catch(() => "");
  await ctx.runtime
    .stopAndRemove(id, 2)
    .catch((e) => ctx.log.warn("job run: remove failed", { run_id: run.id, error: (e as Error).message }));
  // The app's output is the app's, but a job printing its env must not show a secret to a key without env:read.
  const shown = redactEnvValues(ctx.box, sealed, { logs }).logs;
  if (timedOut) finish(ctx, run, { status: "timed_out", logs: shown, reason: `timed out after ${job.timeout_sec} s` });
  else
    finish(ctx, run, {
      status: exit === 0 ? "succeeded" : "failed",
      exit_code: exit,
      logs: shown,
      reason: exit === null ? "the engine lost the container" : null,
    });
}

async function tailLogs(ctx: Ctx, id: string): Promise<string> {
  const lines: string[] = [];
  for await (const l of ctx.runtime.logs(id, { tail: RUN_LOG_LINES, follow: false })) lines.push(l);
  const text = lines.join("\n");
  const buf = Buffer.from(text);
  return buf.length <= RUN_LOG_BYTES ? text : `[…]${buf.subarray(buf.length - RUN_LOG_BYTES).toString("utf8")}`;
}

/** Ends a run; its reason keeps what it started with (a catch-up's count of missed fires) before how it ended. */
function finish(
  ctx: Ctx,
  run: JobRunRow,
  f: { status: JobRunRow["status"]; exit_code?: number | null; logs?: string; reason?: string | null },
): void {
  const now = ctx.now();
  const reason = [run.reason, f.reason].filter(Boolean).join("; ") || null;
  jobs.finishRun(ctx.db, run.id, {
    ...f,
    reason,
    finished_at: nowIso(now),
    duration_ms: Math.max(0, now.getTime() - Date.parse(run.started_at)),
  });
}

/** Ends a running run (`replaced`, or `interrupted` when its job is deleted) and removes its container. */
export async function stopRun(
  ctx: Ctx,
  jobId: string,
  runIdToStop: string,
  reason: string,
  status: "replaced" | "interrupted" = "replaced",
): Promise<void> {
  const r = jobs.findRun(ctx.db, jobId, runIdToStop);
  if (!r || r.status !== "running") return;
  finish(ctx, r, { status, reason });
  if (r.container_id)
    await ctx.runtime
      .stopAndRemove(r.container_id, 2)
      .catch((e) => ctx.log.warn("job run: stop failed", { run_id: r.id, error: (e as Error).message }));
}
