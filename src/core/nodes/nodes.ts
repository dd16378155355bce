// The cluster's nodes (an extension of the API): listed, drained, activated, removed, joined. They exist only on a
// cluster engine (STAXA_ENGINE=swarm); on one host every call answers 409 not_clustered, saying so.
import type { Ctx } from "../context.ts";
import type { Cluster, ClusterNode, JoinCommand } from "../../runtime/cluster.ts";
import { Conflict, Invalid, NotFound } from "../../lib/errors.ts";
import { agentToken } from "./agent-state.ts";

/** Why the single-host engine has no nodes: the one sentence every refused call carries. */
export const NOT_CLUSTERED =
  "This appliance runs tenants on one Docker engine (STAXA_ENGINE=docker): there are no nodes. Set STAXA_ENGINE=swarm on a swarm manager to manage a cluster.";

function clusterOf(ctx: Pick<Ctx, "runtime" | "config">): Cluster {
  const c = ctx.runtime.cluster;
  if (!c) throw new Conflict(NOT_CLUSTERED, { engine: ctx.config.engine }, "not_clustered");
  return c;
}

export function listNodes(ctx: Ctx): Promise<ClusterNode[]> {
  return clusterOf(ctx).listNodes();
}

export async function getNode(ctx: Ctx, id: string): Promise<ClusterNode> {
  const node = await clusterOf(ctx).findNode(id);
  if (!node) throw new NotFound("Node");
  return node;
}

/**
 * The command a new server runs to join (it carries the swarm's join token: shown to node admins only), and the
 * node agent it runs beside dockerd (its token is a secret too): network rules and isolation on that node.
 */
export async function joinCommand(ctx: Ctx, role: unknown): Promise<JoinCommand & { agent_argv: string[] }> {
  const r = role ?? "worker";
  if (r !== "worker" && r !== "manager") throw new Invalid("role", "role must be worker or manager");
  const cmd = await clusterOf(ctx).joinCommand(r);
  const manager = `http://${cmd.manager_address}:${ctx.config.port}`;
  return { ...cmd, agent_argv: ["staxa", "agent", "--manager", manager, "--token", agentToken(ctx.box)] };
}

/** drain: Swarm reschedules the node's tasks on the others (routes follow on the next reconciliation); active: back. */
export async function setAvailability(ctx: Ctx, id: string, availability: "active" | "drain"): Promise<ClusterNode> {
  const cluster = clusterOf(ctx);
  await getNode(ctx, id);
  await cluster.setAvailability(id, availability);
  return getNode(ctx, id);
}

/** Removes a node; one still reachable needs `force` (drain it first so its tasks move calmly). */
export async function removeNode(ctx: Ctx, id: string, force: boolean): Promise<void> {
  const cluster = clusterOf(ctx);
  const node = await getNode(ctx, id);
  if (node.role === "manager" && node.leader)
    throw new Conflict("The leading manager cannot be removed: it is the engine this appliance runs on", { id }, "node_in_use");
  await cluster.removeNode(id, force);
}
