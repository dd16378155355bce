// The node agents' side of the manager: their token (derived from the appliance's secret key, never stored) and
// the cluster's desired network state they poll (src/agent/state.ts). One answer serves every node; it is built
// from the active network rules, the restricted tenants and the nodes' tasks, and shared for a second.
import { createHash } from "node:crypto";
import type { Ctx } from "../context.ts";
import type { AgentState } from "../../agent/state.ts";
import { safeEqual, type SecretBox } from "../../lib/crypto.ts";
import { Unauthorized } from "../../lib/errors.ts";
import * as tenants from "../../store/tenants.ts";
import * as rules from "../../store/network-rules.ts";
import { listNodes } from "./nodes.ts";

const SALT = new TextEncoder().encode("staxa-node-agent");

/** The agents' bearer token: an HKDF of the secret key, the same on every start, shown in the join-token answer. */
export function agentToken(box: SecretBox): string {
  return `sta_${box.deriveKey("node agent token", SALT).toString("hex")}`;
}

/** Throws 401 unless `token` is the agents' token (compared in constant time). */
export function checkAgentToken(box: SecretBox, token: string): void {
  if (!safeEqual(token, agentToken(box))) throw new Unauthorized("Invalid agent token");
}

/** The desired state, computed from the store and the cluster (409 not_clustered on one host). */
export async function buildAgentState(ctx: Pick<Ctx, "db" | "runtime" | "config">): Promise<AgentState> {
  const nodes = await listNodes(ctx as Ctx);
  const active = rules.listActive(ctx.db);
  const nameOf = new Map<string, string>();
  const tenantName = (id: string) => {
    if (!nameOf.has(id)) nameOf.set(id, tenants.findById(ctx.db, id)?.name ?? "");
    return nameOf.get(id)!;
  };
  const egress = tenants.listRestricted(ctx.db).map((t) => ({
    tenant: t.name,
    allow: active
      .filter((r) => r.tenant_id === t.id && r.direction === "outbound")
      .flatMap((r) =>
        (JSON.parse(r.destination_cidrs) as string[]).map((cidr) => ({ cidr, port: r.destination_port!, protocol: r.protocol })),
      ),
  }));
  const inbound = active
    .filter((r) => r.direction === "inbound" && r.protocol === "tcp" && r.allocated_port && r.target_port && r.target_service)
    .map((r) => {
      const tenant = tenantName(r.tenant_id);
      const service = r.target_service!;
      return {
        id: r.id,
        port: r.allocated_port!,
        source_cidrs: JSON.parse(r.source_cidrs) as string[],
        tenant,
        service,
        target_port: r.target_port!,
        nodes: nodes
          .filter((n) => n.tasks.some((t) => t.tenant === tenant && t.service === service && t.state === "running"))
          .map((n) => n.address),
      };
    });
  const body = {
    nodes: nodes.map((n) => ({ id: n.id, address: n.address })),
    proxy_ports: [ctx.config.httpPort, ctx.config.httpsPort],
    tenant_pool: ctx.config.tenantSubnetPool,
    egress,
    inbound,
  };
  return { version: createHash("sha256").update(JSON.stringify(body)).digest("hex").slice(0, 16), ...body };
}

/** The state shared by every agent polling within `ttlMs` (one build per window, however many nodes ask). */
export function agentStateCache(ctx: Pick<Ctx, "db" | "runtime" | "config" | "now">, ttlMs = 1000) {
  let last: { at: number; state: Promise<AgentState> } | undefined;
  return (): Promise<AgentState> => {
    const now = ctx.now().getTime();
    if (!last || now - last.at >= ttlMs) {
      const state = buildAgentState(ctx);
      const entry = (last = { at: now, state });
      state.catch(() => last === entry && (last = undefined)); // a failure is not shared
    }
    return last.state;
  };
}
