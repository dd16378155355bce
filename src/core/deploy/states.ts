// The two state machines of the pipeline, as transition tables: every status change goes through here.
import type { TenantStatus } from "../../store/tenants.ts";
import type { DeploymentStatus } from "../../store/deployments.ts";

const TENANT: Record<TenantStatus, TenantStatus[]> = {
  provisioning: ["deploying", "failed", "deleting"],
  deploying: ["deploying", "ready", "failed", "deleting"],
  ready: ["deploying", "ready", "deleting"],
  failed: ["deploying", "failed", "deleting"],
  deleting: ["deleting"],
};

const DEPLOYMENT: Record<DeploymentStatus, DeploymentStatus[]> = {
  queued: ["building", "deploying", "failed"],
  building: ["deploying", "failed"],
  deploying: ["succeeded", "failed"],
  succeeded: [],
  failed: [],
};

export function canTenant(from: TenantStatus, to: TenantStatus): boolean {
  return TENANT[from]?.includes(to) ?? false;
}

export function canDeployment(from: DeploymentStatus, to: DeploymentStatus): boolean {
  return DEPLOYMENT[from]?.includes(to) ?? false;
}

/** Throws on a transition the table does not allow: a bug in the caller, never user input. */
export function assertDeployment(from: DeploymentStatus, to: DeploymentStatus): void {
  if (!canDeployment(from, to)) throw new Error(`deployment cannot go from ${from} to ${to}`);
}
