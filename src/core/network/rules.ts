// Network rules: list, create (validate, allocate a port, apply), get, delete, TTL expiry, start-up re-application.
import type { Ctx } from "../context.ts";
import type { Principal } from "../identity/principal.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import * as rules from "../../store/network-rules.ts";
import type { NetworkRuleRow } from "../../store/network-rules.ts";
import { newId, nowIso } from "../../lib/ids.ts";
import { Invalid, Unprocessable } from "../../lib/errors.ts";
import { parseRule } from "./rule-input.ts";
import {
  applyEgress,
  applyInbound,
  firewallOf,
  guardedHostPorts,
  hostFirewallOf,
  inTenantLane,
  reapplyTenantRules,
} from "./enforcement.ts";

export { applyTenantEgress, reapplyTenantRules, removeTenantRules } from "./enforcement.ts";

const STATUSES = ["active", "expired", "all"] as const;

/** The API shape; connection_string only while an inbound rule holds its port. */
export function ruleView(ctx: Ctx, r: NetworkRuleRow) {
  const ip = ctx.config.publicIp.includes(":") ? `[${ctx.config.publicIp}]` : ctx.config.publicIp;
  const open = r.direction === "inbound" && r.status === "active" && r.allocated_port !== null;
  return {
    id: r.id,
    direction: r.direction,
    protocol: r.protocol,
    target_service: r.target_service,
    target_port: r.target_port,
    allocated_port: r.allocated_port,
    source_cidrs: JSON.parse(r.source_cidrs) as string[],
    destination_cidrs: JSON.parse(r.destination_cidrs) as string[],
    destination_port: r.destination_port,
    status: r.status,
    description: r.description,
    expires_at: r.expires_at,
    connection_string: open ? `${ip}:${r.allocated_port}` : null,
    created_at: r.created_at,
  };
}

export function listRules(
  ctx: Ctx,
  p: Principal,
  tenantId: string,
  q: { direction?: string; status?: string },
): NetworkRuleRow[] {
  const t = tenants.get(ctx.db, p, tenantId);
  if (q.direction !== undefined && q.direction !== "inbound" && q.direction !== "outbound")
    throw new Invalid("direction", 'direction must be "inbound" or "outbound"');
  const status = q.status ?? "active";
  if (!(STATUSES as readonly string[]).includes(status))
    throw new Invalid("status", `status must be one of: ${STATUSES.join(", ")}`);
  return rules.list(ctx.db, t.id, { direction: q.direction, status: status === "all" ? undefined : status });
}

export function getRule(ctx: Ctx, p: Principal, tenantId: string, id: string): NetworkRuleRow {
  const t = tenants.get(ctx.db, p, tenantId);
  return rules.get(ctx.db, t.id, id);
}

/**
 * Validates everything (400), then the tenant's state (422), then limit and port together with the
 * insert in one transaction (422 / 409), then applies the rule; a firewall failure leaves nothing stored.
 */
export async function createRule(
  ctx: Ctx,
  p: Principal,
  tenantId: string,
  body: Record<string, unknown>,
): Promise<NetworkRuleRow> {
  const t = tenants.get(ctx.db, p, tenantId);
  const d = parseRule(body);
  if (t.status === "deleting") throw new Unprocessable("tenant_deleting", "The tenant is being deleted");
  if (d.direction === "outbound" && t.egress_mode !== "restricted") {
    throw new Unprocessable(
      "egress_not_restricted",
      'Outbound rules need the tenant\'s egress_mode to be "restricted" (PATCH /tenants/{id})',
      { field: "direction", egress_mode: t.egress_mode },
    );
  }
  if (d.targetService && !services.find(ctx.db, t.id, d.targetService))
    throw new Invalid("target_service", `Tenant has no service named "${d.targetService}"`);
  const now = ctx.now();
  const row: NetworkRuleRow = {
    id: newId("nr"),
    tenant_id: t.id,
    direction: d.direction,
    protocol: d.protocol,
    target_service: d.targetService,
    target_port: d.targetPort,
    allocated_port: null,
    source_cidrs: JSON.stringify(d.sourceCidrs),
    destination_cidrs: JSON.stringify(d.destinationCidrs),
    destination_port: d.destinationPort,
    status: "active",
    description: d.description,
    expires_at: d.ttlHours ? nowIso(new Date(now.getTime() + d.ttlHours * 3_600_000)) : null,
    created_at: nowIso(now),
    updated_at: nowIso(now),
  };
  const limit = ctx.config.networkRuleLimit;
  const stored = rules.insertWithPort(ctx.db, row, d.direction === "inbound" ? ctx.config.portPool : null, () => {
    if (rules.countActive(ctx.db, t.id) >= limit)
      throw new Unprocessable("network_rule_limit_reached", `Network rule limit of ${limit} reached for this tenant`, { limit });
  });
  try {
    await inTenantLane(ctx, t.id, () => (stored.direction === "inbound" ? applyInbound(ctx, stored) : applyEgress(ctx, t.id)));
  } catch (e) {
    rules.remove(ctx.db, stored.id);
    // Take back whatever part was applied; egress swaps fail closed, so a retry here only reopens what the store allows.
    await inTenantLane(ctx, t.id, async () =>
      stored.direction === "inbound" ? (await firewallOf(ctx))?.remove(stored.id) : applyEgress(ctx, t.id),
    ).catch(() => undefined);
    throw e;
  }
  return stored;
}

/** Removes the rule from the firewall first, then the row: an inbound port is free again at once. */
export async function deleteRule(ctx: Ctx, p: Principal, tenantId: string, id: string): Promise<void> {
  const t = tenants.get(ctx.db, p, tenantId);
  const r = rules.get(ctx.db, t.id, id);
  await inTenantLane(ctx, t.id, async () => {
    if (r.direction === "inbound") await (await firewallOf(ctx))?.remove(r.id);
    rules.remove(ctx.db, r.id);
    // Narrowing egress: a failed swap leaves the fail-closed hold (tighter, never wider) until the next re-apply.
    if (r.direction === "outbound" && r.status === "active")
      await applyEgress(ctx, t.id).catch((e) =>
        ctx.log.error("network rules: egress update failed", { tenant_id: t.id, error: (e as Error).message }),
      );
  });
}

/**
 * Expires every active rule whose expires_at has passed (by ctx.now): firewall rules removed, status
 * `expired`, port back in the pool, an event on the tenant's stream. A rule the firewall could not
 * release stays active and is retried on the next tick. Returns the expired ids.
 */
export async function expireDueRules(ctx: Ctx): Promise<string[]> {
  const done: string[] = [];
  for (const r of rules.listDue(ctx.db, nowIso(ctx.now()))) {
    try {
      await inTenantLane(ctx, r.tenant_id, async () => {
        if (r.direction === "inbound") await (await firewallOf(ctx))?.remove(r.id);
        rules.markExpired(ctx.db, r.id, nowIso(ctx.now()));
        if (r.direction === "outbound") await applyEgress(ctx, r.tenant_id);
      });
    } catch (e) {
      ctx.log.error("network rules: expiry failed; retrying next tick", { rule_id: r.id, error: (e as Error).message });
      if (rules.find(ctx.db, r.tenant_id, r.id)?.status === "active") continue;
    }
    done.push(r.id);
    ctx.bus.emit({
      tenantId: r.tenant_id,
      stage: "network",
      status: "done",
      message: `Network rule ${r.id} expired`,
      data: { rule_id: r.id, direction: r.direction, allocated_port: r.allocated_port },
    });
  }
  return done;
}

/**
 * Start-up (iptables state does not survive a reboot): chains, host guard, overdue expiries, then every
 * tenant's egress and inbound ports from the store. Never throws; failures are logged.
 */
export async function reapplyAllNetworkRules(ctx: Ctx): Promise<void> {
  if (!ctx.firewall) return;
  try {
    const fw = (await hostFirewallOf(ctx))!;
    await fw.guardHost(guardedHostPorts(ctx));
    await expireDueRules(ctx);
  } catch (e) {
    ctx.log.error("network rules: firewall set-up failed; tenant rules are NOT enforced", { error: (e as Error).message });
    return;
  }
  for (const t of tenants.listAll(ctx.db)) await reapplyTenantRules(ctx, t.id);
  ctx.log.info("network rules applied", { active: rules.listActive(ctx.db).length });
}
