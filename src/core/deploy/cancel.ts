// Cancelling a deployment (an extension of the reference): a queued one never starts; a running one has its build,
// pull or candidate container stopped, and whatever served before keeps serving. It ends `failed`, "cancelled by …".
import type { Ctx } from "../context.ts";
import type { Principal } from "../identity/principal.ts";
import type { DeploymentRow } from "../../store/deployments.ts";
import * as tenants from "../../store/tenants.ts";
import * as deployments from "../../store/deployments.ts";
import { nowIso } from "../../lib/ids.ts";
import { Conflict } from "../../lib/errors.ts";
import { moveDeployment } from "./states.ts";
import { cancelTenantWork } from "./deployer.ts";

/** Who cancelled, in the reason: the API key's id or the dashboard user's (never a secret). */
function cancelledBy(p: Principal): string {
  return `cancelled by ${p.keyId ?? (p.userId ? `user ${p.userId}` : p.via)}`;
}

/** POST /tenants/{id}/deployments/{depId}/cancel. A finished deployment is 409; returns the row as it is now. */
export function cancelDeployment(ctx: Ctx, p: Principal, tenantId: string, depId: string): DeploymentRow {
  const t = tenants.get(ctx.db, p, tenantId);
  const d = deployments.get(ctx.db, t.id, depId);
  if (d.status === "succeeded" || d.status === "failed") {
    throw new Conflict(
      `Deployment ${depId} has already ${d.status === "succeeded" ? "succeeded" : "failed"}; only a queued or running one can be cancelled`,
      { deployment_id: depId, status: d.status },
      "deployment_finished",
    );
  }
  const reason = cancelledBy(p);
  if (d.status === "queued") {
    moveDeployment(ctx.db, d, "failed", { reason, finished_at: nowIso() }); // the lane skips a row no longer queued
    ctx.bus.emit({
      tenantId: t.id,
      deploymentId: d.id,
      service: d.service_name,
      stage: "error",
      status: "failed",
      message: reason,
      data: { failed_stage: "queued", still_serving: true },
    });
    ctx.bus.notify({
      event: "deployment.failed",
      provider_id: t.provider_id,
      mode: t.mode,
      tenant_id: t.id,
      data: { deployment_id: d.id, service: d.service_name, reason },
    });
  } else {
    // Building or deploying: it is the tenant's running work (one at a time per tenant); the pipeline records the rest.
    cancelTenantWork(ctx, t.id, reason);
  }
  return deployments.get(ctx.db, t.id, depId);
}
