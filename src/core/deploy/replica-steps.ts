// The replica steps of reconciliation (reconcile-plan.ts), applied in the tenant's lane of the deploy queue so they
// never interleave with a deployment or with each other. Each re-reads the store first: a step planned from a state
// that has changed since (the slot filled, the count changed again) is skipped.
import type { Ctx } from "../context.ts";
import type { Step } from "./reconcile-plan.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import * as replicas from "../../store/replicas.ts";
import type { TenantRow } from "../../store/tenants.ts";
import type { ServiceRow } from "../../store/services.ts";
import { portOf } from "./container-plan.ts";
import { drain, routeLive, startReplica } from "./replicas.ts";

export type ReplicaStep = Extract<Step, { op: "start-replica" | "restore-replica" | "stop-replica" | "record-replica-ip" }>;

export const isReplicaStep = (s: Step): s is ReplicaStep =>
  s.op === "start-replica" || s.op === "restore-replica" || s.op === "stop-replica" || s.op === "record-replica-ip";

/** Applies one replica step; never throws (a replica that does not come up is reported, and planned again later). */
export async function applyReplicaStep(ctx: Ctx, step: ReplicaStep): Promise<void> {
  const t = tenants.findById(ctx.db, step.tenantId);
  const s = services.findById(ctx.db, step.serviceId);
  if (!t || !s || t.status === "deleting" || s.status === "removing" || !s.container_id || !s.live_image) return;
  const row = replicas.list(ctx.db, s.id).find((r) => r.slot === step.slot);
  const say = (status: string, message: string) =>
    ctx.bus.emit({ tenantId: t.id, service: s.name, stage: "info", status, message, data: { replica: step.slot } });
  try {
    switch (step.op) {
      case "record-replica-ip":
        return replicas.recordIp(ctx.db, s.id, step.slot, step.containerId, step.ip);
      case "start-replica":
        if (row || step.slot > s.replicas) return;
        return await addReplica(ctx, t, s, step.slot, say);
      case "restore-replica":
        if (row?.container_id !== step.containerId || step.slot > s.replicas) return;
        say("running", `Replica ${step.slot} of ${s.name} stopped; replacing it`);
        await retire(ctx, t, s, step.slot, step.containerId, 0);
        return await addReplica(ctx, t, s, step.slot, say);
      case "stop-replica":
        if (row?.container_id !== step.containerId || step.slot <= s.replicas) return;
        await retire(ctx, t, s, step.slot, step.containerId, 10);
        say("done", `Replica ${step.slot} of ${s.name} removed`);
        return;
    }
  } catch (e) {
    ctx.log.warn("replica step failed; reconciliation plans it again", { step: step.op, service: s.id, error: String(e) });
    say("failed", `Replica ${step.slot} of ${s.name}: ${(e as Error).message ?? String(e)}`);
  }
}

/** A new container in `slot` from the live image and port; recorded and routed once healthy. */
async function addReplica(ctx: Ctx, t: TenantRow, s: ServiceRow, slot: number, say: (st: string, m: string) => void) {
  say("running", `Starting replica ${slot} of ${s.name}`);
  const c = await startReplica(ctx, {
    tenant: t,
    service: s,
    deploymentId: s.current_deployment_id ?? "replica",
    image: s.live_image!,
    port: portOf(t, s),
    slot,
  });
  replicas.put(ctx.db, { service_id: s.id, slot, container_id: c.id, container_ip: c.ip });
  await routeLive(ctx, t, services.findById(ctx.db, s.id) ?? s);
  say("done", `Replica ${slot} of ${s.name} serves`);
}

/** Out of the route first (the store forgets it, the route follows the store), then drained, then stopped. */
async function retire(ctx: Ctx, t: TenantRow, s: ServiceRow, slot: number, containerId: string, stopSec: number) {
  replicas.remove(ctx.db, s.id, slot, containerId);
  await routeLive(ctx, t, s);
  if (stopSec > 0) await drain(ctx);
  await ctx.runtime.stopAndRemove(containerId, stopSec);
}
