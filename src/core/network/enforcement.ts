// Puts the stored network rules into the host firewall: inbound ports follow their service's current
// container, restricted egress follows the tenant's outbound rules. One lane per tenant keeps changes ordered.
import type { Ctx } from "../context.ts";
import type { Firewall } from "../../runtime/firewall.ts";
import type { EgressPolicy, InboundRule } from "../../runtime/firewall-rules.ts";
import type { TenantRow } from "../../store/tenants.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import * as rules from "../../store/network-rules.ts";
import type { NetworkRuleRow } from "../../store/network-rules.ts";
import { networkName } from "../resources.ts";

/** Tag of a tenant's egress policy in the firewall. */
export const egressId = (tenantId: string): string => `egress-${tenantId}`;

/** What this process knows of the host firewall (ctx.firewallState): our chains set up yet, each tenant's change in flight. */
export class FirewallState {
  private setup: { fw: Firewall; done: Promise<void> } | undefined;
  private readonly lanes = new Map<string, Promise<unknown>>();

  /** Sets our chains up once per firewall; a failed setup is retried on the next call. */
  ready(fw: Firewall): Promise<void> {
    if (this.setup?.fw !== fw) {
      const setup = (this.setup = { fw, done: fw.setup() });
      setup.done.catch(() => this.setup === setup && (this.setup = undefined));
    }
    return this.setup.done;
  }

  /** Runs `fn` after every earlier firewall change of the same tenant: the last change always wins. */
  inLane<T>(tenantId: string, fn: () => Promise<T>): Promise<T> {
    const next = (this.lanes.get(tenantId) ?? Promise.resolve()).catch(() => undefined).then(fn);
    const tail = next.catch(() => undefined);
    this.lanes.set(tenantId, tail);
    void tail.then(() => this.lanes.get(tenantId) === tail && this.lanes.delete(tenantId));
    return next;
  }
}

/**
 * The firewall tenant rules go to, with our chains in place; undefined when the context has none, and on a cluster
 * engine: there each node's agent enforces them (src/agent, from GET /nodes/agent/state), not this host. The one
 * place the engines differ for network rules.
 */
export async function firewallOf(ctx: Pick<Ctx, "firewall" | "firewallState" | "config">): Promise<Firewall | undefined> {
  return ctx.config.engine === "swarm" ? undefined : hostFirewallOf(ctx);
}

/** This host's firewall with our chains in place (its own guard applies on every engine). */
export async function hostFirewallOf(ctx: Pick<Ctx, "firewall" | "firewallState">): Promise<Firewall | undefined> {
  const fw = ctx.firewall;
  if (!fw) return undefined;
  await ctx.firewallState.ready(fw);
  return fw;
}

/** Runs `fn` after every earlier firewall change of the same tenant: the last change always wins. */
export function inTenantLane<T>(ctx: Pick<Ctx, "firewallState">, tenantId: string, fn: () => Promise<T>): Promise<T> {
  return ctx.firewallState.inLane(tenantId, fn);
}

/** The firewall form of an inbound rule, or undefined while its service has no container to forward to. */
export function inboundOf(ctx: Ctx, r: NetworkRuleRow): InboundRule | undefined {
  const svc = services.find(ctx.db, r.tenant_id, r.target_service ?? "");
  if (!svc?.container_ip || !r.allocated_port || !r.target_port) return undefined;
  return {
    id: r.id,
    protocol: r.protocol,
    hostPort: r.allocated_port,
    targetIp: svc.container_ip,
    targetPort: r.target_port,
    sourceCidrs: JSON.parse(r.source_cidrs),
  };
}

/** Opens (or re-points) one inbound port; with no container yet, any old forwarding is removed. Throws on failure. */
export async function applyInbound(ctx: Ctx, r: NetworkRuleRow): Promise<void> {
  const fw = await firewallOf(ctx);
  if (!fw) return;
  const rule = inboundOf(ctx, r);
  if (rule) await fw.addInbound(rule);
  else await fw.remove(r.id);
}

/** The tenant's egress as the store says: restricted -> DNS + its active outbound rules; open -> no policy. Throws on failure. */
export async function applyEgress(ctx: Ctx, tenantId: string): Promise<void> {
  const fw = await firewallOf(ctx);
  const t = tenants.findById(ctx.db, tenantId);
  if (!fw || !t) return;
  if (t.egress_mode !== "restricted") return fw.remove(egressId(t.id));
  // Before the first deployment the network does not exist; provisioning applies the policy then.
  const subnet = await ctx.runtime.networkSubnet?.(networkName(t.name));
  if (!subnet) return;
  const allow: EgressPolicy["allow"] = [];
  for (const r of rules.list(ctx.db, t.id, { direction: "outbound", status: "active" })) {
    for (const cidr of JSON.parse(r.destination_cidrs) as string[])
      allow.push({ cidr, port: r.destination_port!, protocol: r.protocol });
  }
  await fw.setEgress({ id: egressId(t.id), subnet, allow });
}

const warn = (ctx: Ctx, what: string, tenantId: string) => (e: unknown) =>
  ctx.log.error(`network rules: ${what} failed`, { tenant_id: tenantId, error: (e as Error)?.message ?? String(e) });

/** Egress only (PATCH egress_mode, network provisioned). Never throws: a failure is logged. */
export function applyTenantEgress(ctx: Ctx, tenantId: string): Promise<void> {
  if (!ctx.firewall) return Promise.resolve();
  return inTenantLane(ctx, tenantId, () => applyEgress(ctx, tenantId)).catch(warn(ctx, "egress", tenantId));
}

/**
 * Provisioning: a restricted tenant's network is restricted before any container of it starts, and a
 * failure fails the deployment (never fail-open). For an open tenant a failure is only logged.
 */
export async function enforceEgressBeforeStart(ctx: Ctx, tenantId: string): Promise<void> {
  if (!ctx.firewall) return;
  if (tenants.findById(ctx.db, tenantId)?.egress_mode !== "restricted") return applyTenantEgress(ctx, tenantId);
  await inTenantLane(ctx, tenantId, () => applyEgress(ctx, tenantId));
}

/**
 * Everything of one tenant again: egress, and every active inbound rule pointed at its service's
 * current container. The pipeline calls it once a new container is current. Never throws.
 */
export function reapplyTenantRules(ctx: Ctx, tenantId: string): Promise<void> {
  if (!ctx.firewall) return Promise.resolve();
  return inTenantLane(ctx, tenantId, async () => {
    const t = tenants.findById(ctx.db, tenantId);
    if (!t || t.status === "deleting") return;
    await applyEgress(ctx, t.id);
    for (const r of rules.list(ctx.db, t.id, { direction: "inbound", status: "active" })) await applyInbound(ctx, r);
  }).catch(warn(ctx, "re-apply", tenantId));
}

/** Removes a deleted tenant's ports and egress policy from the firewall (its rows go with the tenant). Never throws. */
export function removeTenantRules(ctx: Ctx, t: Pick<TenantRow, "id">): Promise<void> {
  if (!ctx.firewall) return Promise.resolve();
  return inTenantLane(ctx, t.id, async () => {
    const fw = await firewallOf(ctx);
    if (!fw) return;
    for (const r of rules.list(ctx.db, t.id, { direction: "inbound" })) await fw.remove(r.id);
    await fw.remove(egressId(t.id));
  }).catch(warn(ctx, "removal", t.id));
}

/** Host TCP ports no container may reach: the API and Caddy's admin API. */
export function guardedHostPorts(ctx: Ctx): number[] {
  const u = new URL(ctx.config.caddyAdminUrl);
  const admin = Number(u.port || (u.protocol === "https:" ? 443 : 80));
  return [ctx.config.port, admin];
}
