// Deployments as the API sees them: request (queued, run in the tenant's lane), list, get, rollback, build log.
import type { Ctx } from "../context.ts";
import type { Principal } from "../identity/principal.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import * as deployments from "../../store/deployments.ts";
import type { DeploymentRow } from "../../store/deployments.ts";
import type { ServiceRow } from "../../store/services.ts";
import type { TenantRow } from "../../store/tenants.ts";
import { newId, nowIso } from "../../lib/ids.ts";
import { Invalid, NotFound, Unprocessable } from "../../lib/errors.ts";
import { runDeployment } from "./pipeline.ts";
import { assertRecreatable } from "./retention.ts";
import { buildLogUrl } from "../resources.ts";
import * as input from "../input.ts";

export interface DeployRequest {
  trigger: "create" | "api" | "rollback" | "env" | "config" | "service" | "reconcile" | "push";
  branch?: string;
  commitSha?: string;
  /** Reuse this image instead of building (rollback, env/config change). */
  reuse?: Reuse;
}

/** An image deployed before, with what it was deployed with: no build, same port, same framework. */
export interface Reuse {
  imageId: string;
  image: string | null;
  commitSha: string | null;
  branch: string | null;
  port: number | null;
  framework: string | null;
  /** The deployment rolled back to; null for a restart with the current image. */
  from: string | null;
}

/**
 * Inserts a queued deployment of `service` and schedules it in the tenant's lane. `gate`, when given, runs
 * just before the deployment would start; false skips it (deploy-all: a predecessor failed).
 */
export function requestDeploy(
  ctx: Ctx,
  tenant: TenantRow,
  service: ServiceRow,
  req: DeployRequest,
  gate?: (dep: DeploymentRow) => boolean,
): DeploymentRow {
  const row: DeploymentRow = {
    id: newId("dep"),
    tenant_id: tenant.id,
    service_id: service.id,
    service_name: service.name,
    status: "queued",
    reason: null,
    trigger: req.trigger,
    branch: req.reuse?.branch ?? (service.source_type === "image" ? null : (req.branch ?? service.branch)),
    commit_sha: req.reuse?.commitSha ?? null,
    requested_sha: req.reuse ? null : (req.commitSha ?? service.commit_sha ?? null),
    image: req.reuse?.image ?? (service.source_type === "image" ? service.image_url : null),
    image_id: req.reuse?.imageId ?? null,
    framework: req.reuse?.framework ?? null,
    port: req.reuse?.port ?? null,
    rollback_from: req.reuse?.from ?? null,
    container_id: null,
    build_log: "",
    timings: "{}",
    created_at: nowIso(),
    started_at: null,
    finished_at: null,
  };
  deployments.insert(ctx.db, row);
  ctx.bus.emit({
    tenantId: tenant.id,
    deploymentId: row.id,
    service: service.name,
    stage: "info",
    status: "queued",
    message: `Deployment ${row.id} queued (${req.trigger})`,
  });
  void ctx.deployer.queue.enqueue(tenant.id, async () => {
    if (!gate || gate(row)) await runDeployment(ctx, tenant.id, row.id);
  });
  return row;
}

/** The tenant's deployable state: deleting tenants take no new work. */
export function assertDeployable(t: TenantRow): void {
  if (t.status === "deleting")
    throw new Unprocessable("tenant_not_deployable", "The tenant is being deleted", { status: t.status });
}

/** The view of the reference, plus what a client needs to follow it. */
export function deploymentView(d: DeploymentRow) {
  return {
    id: d.id,
    tenant_id: d.tenant_id,
    service_name: d.service_name,
    status: d.status,
    reason: d.reason,
    trigger: d.trigger,
    branch: d.branch,
    commit_sha: d.commit_sha,
    image: d.image,
    framework: d.framework,
    rollback_from: d.rollback_from,
    build_log_url: buildLogUrl(d.tenant_id, d.id),
    timings: JSON.parse(d.timings || "{}"),
    created_at: d.created_at,
    started_at: d.started_at,
    finished_at: d.finished_at,
  };
}

/** POST /tenants/{id}/deployments: a new deployment of the primary service. */
export function createDeployment(
  ctx: Ctx,
  p: Principal,
  tenantId: string,
  body: { branch?: unknown; commit_sha?: unknown },
): DeploymentRow {
  const t = tenants.get(ctx.db, p, tenantId);
  assertDeployable(t);
  const svc = services.primary(ctx.db, t.id);
  if (!svc) throw new Unprocessable("tenant_not_deployable", "The tenant has no service to deploy");
  const branch = body.branch === undefined ? undefined : input.branch(body.branch);
  const commitSha = body.commit_sha === undefined ? undefined : input.commitSha(body.commit_sha);
  if (svc.source_type === "image" && (branch || commitSha))
    throw new Invalid(branch ? "branch" : "commit_sha", "An image-sourced tenant has no branch or commit to deploy");
  return requestDeploy(ctx, t, svc, { trigger: "api", branch, commitSha });
}

/** Redeploys a service with its current image (env or resource change): no build. Falls back to a full deploy. */
export function redeployCurrent(ctx: Ctx, t: TenantRow, svc: ServiceRow, trigger: DeployRequest["trigger"]): DeploymentRow {
  const cur = svc.current_deployment_id ? deployments.find(ctx.db, t.id, svc.current_deployment_id) : undefined;
  if (cur?.image_id) return requestDeploy(ctx, t, svc, { trigger, reuse: reuseOf(cur, null) });
  return requestDeploy(ctx, t, svc, { trigger });
}

export function listDeployments(
  ctx: Ctx,
  p: Principal,
  tenantId: string,
  q: { limit: number; offset: number; service?: string },
) {
  const t = tenants.get(ctx.db, p, tenantId);
  const serviceId = q.service ? services.get(ctx.db, t.id, q.service).id : undefined;
  return deployments.list(ctx.db, t.id, { serviceId, limit: q.limit, offset: q.offset });
}

export function getDeployment(ctx: Ctx, p: Principal, tenantId: string, depId: string): DeploymentRow {
  const t = tenants.get(ctx.db, p, tenantId);
  return deployments.get(ctx.db, t.id, depId);
}

export function buildLog(ctx: Ctx, p: Principal, tenantId: string, depId: string): string {
  const t = tenants.get(ctx.db, p, tenantId);
  return deployments.buildLog(ctx.db, t.id, depId);
}

/** A new deployment reusing the image of `depId` (which must have succeeded): no build, unless retention removed it. */
export async function rollback(ctx: Ctx, p: Principal, tenantId: string, depId: string): Promise<DeploymentRow> {
  const t = tenants.get(ctx.db, p, tenantId);
  assertDeployable(t);
  const target = deployments.get(ctx.db, t.id, depId);
  if (target.status !== "succeeded" || !target.image_id) {
    throw new Unprocessable(
      "not_rollbackable",
      `Only a succeeded deployment can be rolled back to (${depId} is ${target.status})`,
      { deployment_id: depId },
    );
  }
  const svc = services.findById(ctx.db, target.service_id);
  if (!svc) throw new NotFound("Service");
  await assertRecreatable(ctx, svc, target); // 409 when its image is gone and can be neither rebuilt nor pulled
  return requestDeploy(ctx, t, svc, {
    trigger: "rollback",
    reuse: reuseOf(target, target.id),
  });
}

function reuseOf(d: DeploymentRow, from: string | null): Reuse {
  return {
    imageId: d.image_id!,
    image: d.image,
    commitSha: d.commit_sha,
    branch: d.branch,
    port: d.port,
    framework: d.framework,
    from,
  };
}
