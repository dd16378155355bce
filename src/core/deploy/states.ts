// The three state machines of the pipeline (tenant, deployment, service) as transition tables, and their only
// writers: every status change goes through move*(), which refuses a transition its table does not allow.
import type { Db } from "../../store/db.ts";
import * as tenants from "../../store/tenants.ts";
import * as deployments from "../../store/deployments.ts";
import * as services from "../../store/services.ts";
import type { TenantStatus } from "../../store/tenants.ts";
import type { DeploymentStatus } from "../../store/deployments.ts";

export type ServiceStatus = "pending" | "running" | "failed" | "stopped" | "removing";

const TENANT: Record<TenantStatus, TenantStatus[]> = {
  provisioning: ["deploying", "failed", "deleting"],
  deploying: ["deploying", "ready", "failed", "deleting"],
  ready: ["deploying", "ready", "degraded", "deleting"],
  degraded: ["deploying", "ready", "degraded", "deleting"],
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

// running → stopped: a service with volumes is stopped before its new container starts (no two mount them).
const SERVICE: Record<ServiceStatus, ServiceStatus[]> = {
  pending: ["running", "failed", "stopped", "removing"],
  running: ["running", "failed", "stopped", "removing"],
  failed: ["running", "failed", "stopped", "removing"],
  stopped: ["running", "failed", "stopped", "removing"],
  removing: ["removing"],
};

/** A status change its table does not allow: a bug in the caller, never user input. */
export class IllegalTransition extends Error {
  constructor(machine: string, id: string, from: string, to: string) {
    super(`${machine} ${id} cannot go from ${from} to ${to}`);
    this.name = "IllegalTransition";
  }
}

export function canTenant(from: TenantStatus, to: TenantStatus): boolean {
  return TENANT[from]?.includes(to) ?? false;
}

export function canDeployment(from: DeploymentStatus, to: DeploymentStatus): boolean {
  return DEPLOYMENT[from]?.includes(to) ?? false;
}

export function canService(from: string, to: ServiceStatus): boolean {
  return SERVICE[from as ServiceStatus]?.includes(to) ?? false;
}

/** Throws IllegalTransition on a deployment transition the table does not allow. */
export function assertDeployment(from: DeploymentStatus, to: DeploymentStatus, id = "?"): void {
  if (!canDeployment(from, to)) throw new IllegalTransition("deployment", id, from, to);
}

type TenantFields = Omit<Parameters<typeof tenants.update>[2], "status">;
type DeploymentFields = Omit<Parameters<typeof deployments.update>[2], "status">;
type ServiceFields = Omit<Parameters<typeof services.update>[2], "status">;

/** Moves tenant `t` (as last read) to `to`, writing `fields` with it, and records the new status on `t`. */
export function moveTenant(db: Db, t: { id: string; status: TenantStatus }, to: TenantStatus, fields: TenantFields): void {
  if (!canTenant(t.status, to)) throw new IllegalTransition("tenant", t.id, t.status, to);
  tenants.update(db, t.id, { ...fields, status: to });
  t.status = to;
}

/** Moves deployment `d` (as last read) to `to`, writing `fields` with it, and records the new status on `d`. */
export function moveDeployment(
  db: Db,
  d: { id: string; status: DeploymentStatus },
  to: DeploymentStatus,
  fields: DeploymentFields = {},
): void {
  assertDeployment(d.status, to, d.id);
  deployments.update(db, d.id, { ...fields, status: to });
  d.status = to;
}

/** Moves service `s` (as last read) to `to`, writing `fields` with it, and records the new status on `s`. */
export function moveService(db: Db, s: { id: string; status: string }, to: ServiceStatus, fields: ServiceFields): void {
  if (!canService(s.status, to)) throw new IllegalTransition("service", s.id, s.status, to);
  services.update(db, s.id, { ...fields, status: to });
  s.status = to;
}
