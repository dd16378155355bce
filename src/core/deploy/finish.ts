// The two ends of a deployment: recording success (the new container is live) or failure (the old one stays).
import type { Ctx } from "../context.ts";
import type { ContainerInfo } from "../../runtime/types.ts";
import type { TenantRow } from "../../store/tenants.ts";
import type { ServiceRow } from "../../store/services.ts";
import type { DeploymentRow } from "../../store/deployments.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import * as deployments from "../../store/deployments.ts";
import { nowIso } from "../../lib/ids.ts";
import { tenantUrl } from "../resources.ts";
import { moveDeployment, moveService, moveTenant } from "./states.ts";

/** Everything one running deployment carries between its steps. */
export interface Run {
  ctx: Ctx;
  tenant: TenantRow;
  service: ServiceRow;
  dep: DeploymentRow;
  signal: AbortSignal;
  timings: Record<string, number>;
  started: number;
  /** The step in progress, named in the error event when something unexpected throws. */
  stage: string;
}

function emit(run: Run, stage: string, status: string, message: string, data?: Record<string, unknown>): void {
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

/**
 * Records the new container as the service's live one (the route already points at it); returns the id of
 * the container it replaced. Whatever follows the container (network rules) is re-pointed between this
 * and finishSucceeded, so that "succeeded" means everything serves the new container.
 */
export function makeLive(run: Run, c: ContainerInfo, live: { port: number; image: string }): string | null {
  const { ctx, service, dep } = run;
  const row = services.findById(ctx.db, service.id)!;
  const old = row.container_id;
  // The desired state of the service from now on: what reconciliation routes to and restores.
  moveService(ctx.db, row, "running", {
    current_deployment_id: dep.id,
    container_id: c.id,
    container_ip: c.ip,
    live_port: live.port,
    live_image: live.image,
    updated_at: nowIso(),
  });
  return old && old !== c.id ? old : null;
}

/** Marks the deployment succeeded and the tenant ready, and tells the listeners. */
export function finishSucceeded(run: Run): void {
  const { ctx, tenant, service, dep } = run;
  const now = nowIso();
  run.timings.total_ms = Date.now() - run.started;
  ctx.db.transaction(() => {
    moveDeployment(ctx.db, dep, "succeeded", { finished_at: now, timings: JSON.stringify(run.timings) });
    const current = tenants.findById(ctx.db, tenant.id);
    if (current && current.status !== "deleting") moveTenant(ctx.db, current, "ready", { status_reason: null, updated_at: now });
  })();
  const url = tenantUrl(ctx.config, tenant.name);
  emit(run, "ready", "done", `Deployment ${dep.id} is live at ${url}`, { url, duration_ms: run.timings.total_ms });
  const base = { provider_id: tenant.provider_id, mode: tenant.mode, tenant_id: tenant.id } as const;
  ctx.bus.notify({
    ...base,
    event: "deployment.succeeded",
    data: {
      deployment_id: dep.id,
      service: service.name,
      commit_sha: deployments.find(ctx.db, tenant.id, dep.id)?.commit_sha ?? null,
    },
  });
  ctx.bus.notify({ ...base, event: "tenant.ready", data: { status: "ready", url } });
}

/**
 * Records a failure. The tenant stays `ready` when its previous container still serves;
 * otherwise it is `failed` with the reason.
 */
export function finishFailed(run: Run, stage: string, reason: string, data: Record<string, unknown> = {}): void {
  const { ctx, tenant, service, dep } = run;
  const now = nowIso();
  run.timings.total_ms = Date.now() - run.started;
  const current = tenants.findById(ctx.db, tenant.id);
  if (!current) return; // deleted meanwhile: nothing left to record on
  const serving = !!services.findById(ctx.db, service.id)?.container_id;
  const tenantStatus = current.status === "deleting" ? "deleting" : serving ? "ready" : "failed";
  ctx.db.transaction(() => {
    moveDeployment(ctx.db, dep, "failed", { reason, finished_at: now, timings: JSON.stringify(run.timings) });
    if (current.status !== "deleting")
      moveTenant(ctx.db, current, tenantStatus, { status_reason: serving ? null : reason, updated_at: now });
    // A service with nothing serving shows why; one whose old container still serves stays "running".
    const svc = services.findById(ctx.db, service.id);
    if (svc && !serving && current.status !== "deleting") moveService(ctx.db, svc, "failed", { updated_at: now });
  })();
  emit(run, "error", "failed", reason, { failed_stage: stage, still_serving: serving, ...data });
  const base = { provider_id: tenant.provider_id, mode: tenant.mode, tenant_id: tenant.id } as const;
  ctx.bus.notify({ ...base, event: "deployment.failed", data: { deployment_id: dep.id, service: service.name, reason } });
  if (tenantStatus === "failed") ctx.bus.notify({ ...base, event: "tenant.failed", data: { status: "failed", reason } });
}
