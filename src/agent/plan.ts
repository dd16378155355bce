// Pure: a node's iptables rules as data, from the manager's state and the node's own tasks (the single host's
// firewall-rules.ts, for the traffic a Swarm task sends out of its node through docker_gwbridge), and the plan
// taking the rules present to the rules desired. Every group of rules is tagged with a hash of its content, so a
// changed group is a new tag: the new rules go in before the old ones leave, and no deletion ever hits a new rule.
import { createHash } from "node:crypto";
import { egressSteps, METADATA_IP, tagOf, type Step } from "../runtime/firewall-rules.ts";
import { deletionOf } from "../runtime/firewall.ts";
import type { AgentState, LocalTask } from "./state.ts";

export const NODE_CHAIN = { iso: "STAXA-NODE-ISO", egress: "STAXA-NODE-EGRESS" } as const;
/** Prefixes of the planned groups' tags (setup's own rules carry other tags and are never planned away). */
export const GROUPS = ["node-iso:", "node-eg:", "node-in:"] as const;
/** Swarm's bridge on every node: a task's traffic leaving its overlay (to anything but its own tenant) enters here. */
export const GWBRIDGE = "docker_gwbridge";

const tag = (id: string) => ["-m", "comment", "--comment", tagOf(id)];
const NEW = ["-m", "conntrack", "--ctstate", "NEW"];
const insertOnce = (chain: string, rule: string[]): Step => ({
  argv: ["-I", chain, "1", ...rule],
  unless: ["-C", chain, ...rule],
});
const appendOnce = (chain: string, rule: string[]): Step => ({ argv: ["-A", chain, ...rule], unless: ["-C", chain, ...rule] });
const hash = (v: unknown) => createHash("sha256").update(JSON.stringify(v)).digest("hex").slice(0, 10);

/**
 * Our chains, hooked in once (idempotent). DOCKER-USER (forwarded, from docker_gwbridge): isolation first, then
 * egress, whose last rule drops a NEW connection from a source it does not know (fail closed: a task the agent has
 * not seen yet has no egress; a TCP retry a moment later goes through). Task groups are inserted at the top, so
 * that DROP stays last. (INPUT is inputSteps', planned.)
 */
export function nodeSetupSteps(): Step[] {
  const exists = "Chain already exists";
  const fromTasks = ["-i", GWBRIDGE];
  return [
    { argv: ["-N", NODE_CHAIN.iso], tolerate: exists },
    { argv: ["-N", NODE_CHAIN.egress], tolerate: exists },
    insertOnce("DOCKER-USER", [...fromTasks, "-j", NODE_CHAIN.egress]),
    insertOnce("DOCKER-USER", [...fromTasks, "-j", NODE_CHAIN.iso]),
    // Replies to connections made TO tasks (Caddy, a client of a published port) keep flowing.
    insertOnce(NODE_CHAIN.iso, ["-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "RETURN"]),
    insertOnce(NODE_CHAIN.egress, ["-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "RETURN"]),
    appendOnce(NODE_CHAIN.egress, [...NEW, ...tag("node-unknown"), "-j", "DROP"]),
  ];
}

/**
 * Isolation: no cluster address (every node, the manager the agent polls), by the connection's ORIGINAL
 * destination (a `<node>:<published port>` is DNATed to a task before FORWARD), no other task through the bridge,
 * no tenant overlay address through the node, and never the metadata service.
 */
export function isolationSteps(state: Pick<AgentState, "nodes" | "tenant_pool" | "proxy_ports">, extra: string[]): Step[] {
  const addrs = [...new Set([...state.nodes.map((n) => n.address), ...extra])].filter(Boolean).sort();
  const id = `node-iso:${hash([addrs, state.tenant_pool, state.proxy_ports])}`;
  const rule = (match: string[], verdict: string): Step => ({
    argv: ["-A", NODE_CHAIN.iso, ...match, ...tag(id), "-j", verdict],
  });
  const drop = (match: string[]) => rule(match, "DROP");
  // Caddy's own ports stay open (a tenant's public URL resolves to a cluster address): as on one host, where
  // only the API and Caddy's admin port are closed to containers. Never a task: those ports are no task's.
  const viaProxy = addrs.flatMap((a) =>
    state.proxy_ports.map((p) =>
      rule(["-p", "tcp", "-m", "conntrack", "--ctorigdst", `${a}/32`, "--ctorigdstport", String(p)], "RETURN"),
    ),
  );
  return [
    ...viaProxy,
    drop(["-d", `${METADATA_IP}/32`]),
    drop(["-o", GWBRIDGE]),
    ...addrs.map((a) => drop(["-m", "conntrack", "--ctorigdst", `${a}/32`])),
    ...(state.tenant_pool ? [drop(["-d", state.tenant_pool])] : []),
  ];
}

/**
 * Egress of one local task: a restricted tenant's policy (firewall-rules.ts egressSteps, for its address), an open
 * one's single RETURN (on to Docker's own chains). Inserted at the top, in reverse: the chain's last rule (the
 * unknown-source DROP) stays last and the group reads in order.
 */
export function taskEgressSteps(task: LocalTask, egress: AgentState["egress"]): Step[] {
  const policy = egress.find((e) => e.tenant === task.tenant);
  const src = `${task.ip}/32`;
  const id = `node-eg:${task.ip}:${hash([task.tenant, policy?.allow ?? "open"])}`;
  const rules: string[][] = policy
    ? egressSteps({ id, subnet: src, allow: policy.allow }).map((s) => s.argv.slice(2)) // drop "-A STAXA-EGRESS"
    : [["-s", src, ...tag(id), "-j", "RETURN"]];
  return [...rules].reverse().map((r) => ({ argv: ["-I", NODE_CHAIN.egress, "1", ...r] }));
}

/**
 * INPUT: a task opens nothing on its own node (its address, the bridge's gateway) but Caddy's ports; its DNS is
 * Docker's, answered inside the task's own namespace. Inserted at the top, in reverse, so it reads in order.
 */
export function inputSteps(state: Pick<AgentState, "proxy_ports">): Step[] {
  const id = `node-in:${hash(state.proxy_ports)}`;
  const from = ["-i", GWBRIDGE];
  const ports = state.proxy_ports.length
    ? [[...from, "-p", "tcp", "-m", "multiport", "--dports", state.proxy_ports.join(","), ...tag(id), "-j", "ACCEPT"]]
    : [];
  return [...ports, [...from, ...NEW, ...tag(id), "-j", "DROP"]].reverse().map((r) => ({ argv: ["-I", "INPUT", "1", ...r] }));
}

/** Every tagged group this node should hold, by tag. */
export function desiredGroups(state: AgentState, tasks: LocalTask[], extra: string[]): Map<string, Step[]> {
  const out = new Map<string, Step[]>();
  const add = (steps: Step[]) => {
    const id = steps.flatMap((s) => s.argv).find((a) => a.startsWith("staxa:node-"));
    if (id) out.set(id.slice("staxa:".length), steps);
  };
  add(isolationSteps(state, extra));
  add(inputSteps(state));
  for (const t of [...tasks].sort((a, b) => a.ip.localeCompare(b.ip))) add(taskEgressSteps(t, state.egress));
  return out;
}

/** The steps from what is applied (tag → its deletions) to what is desired: new groups first, then the gone ones out. */
export function planRules(desired: Map<string, Step[]>, applied: Map<string, Step[]>): Step[] {
  const adds = [...desired].filter(([id]) => !applied.has(id)).flatMap(([, steps]) => steps);
  const removals = [...applied].filter(([id]) => !desired.has(id)).flatMap(([, deletions]) => deletions);
  return [...adds, ...removals];
}

/** The deletions of a group just added (what `applied` keeps for it). */
export const deletionsOf = (steps: Step[]): Step[] => steps.map(deletionOf);
