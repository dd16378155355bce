// Inbound rules on every node: the agent listens on each rule's port at its node's address. A connection from a
// source outside the rule's CIDRs is closed at once; an allowed one is piped to a local task of the target service
// (its docker_gwbridge address), else to a node that runs one, whose agent pipes it locally. A hop from another
// node is accepted from cluster addresses only (isolation keeps every task away from those) and never goes on.
import { createServer, connect, type Server, type Socket } from "node:net";
import { overlaps, parseCidr } from "../lib/cidr.ts";
import type { AgentState, LocalTask } from "./state.ts";

type Rule = AgentState["inbound"][number];
type Target = { host: string; port: number };
export type Route = { to: "refuse" } | { to: "pipe"; targets: Target[] };

const v4 = (a: string) => (a.startsWith("::ffff:") ? a.slice(7) : a);
/** True when `ip` lies in one of `cidrs` (a bare address counts as /32). */
export function allowed(ip: string, cidrs: string[]): boolean {
  const me = parseCidr(`${v4(ip)}/32`);
  return (
    !!me &&
    cidrs.some((c) => {
      const block = parseCidr(c.includes("/") ? c : `${c}/32`);
      return !!block && overlaps(block, me);
    })
  );
}

/**
 * Where one connection from `remote` goes (pure): the targets to try in order, local tasks first (rotated by `n`
 * to spread connections), then the other nodes running one (never for a hop from a node: one hop at most). A
 * target that does not connect (a task that just died, before the agent's next pass) gives way to the next.
 */
export function routeOf(rule: Rule, remote: string, self: string, nodes: string[], local: LocalTask[], n = 0): Route {
  const rotate = <T>(xs: T[]) => xs.map((_, i) => xs[(i + n) % xs.length]!);
  const fromNode = nodes.includes(v4(remote)) && v4(remote) !== self;
  if (!fromNode && !allowed(remote, rule.source_cidrs)) return { to: "refuse" };
  const mine = local.filter((t) => t.tenant === rule.tenant && t.service === rule.service);
  const targets: Target[] = rotate(mine).map((t) => ({ host: t.ip, port: rule.target_port }));
  if (!fromNode) targets.push(...rotate(rule.nodes.filter((a) => a !== self)).map((host) => ({ host, port: rule.port })));
  return targets.length ? { to: "pipe", targets } : { to: "refuse" };
}

/** Connects to the first target that answers within `ms` each; undefined when none does. */
async function firstConnected(targets: Target[], ms: number): Promise<Socket | undefined> {
  for (const t of targets) {
    const s = await new Promise<Socket | undefined>((resolve) => {
      const sock = connect({ host: t.host, port: t.port });
      const fail = () => (sock.destroy(), resolve(undefined));
      const timer = setTimeout(fail, ms);
      sock.once("connect", () => (clearTimeout(timer), resolve(sock)));
      sock.once("error", () => (clearTimeout(timer), fail()));
    });
    if (s) return s;
  }
  return undefined;
}

export interface Relay {
  /** Listens on exactly the ports of `rules` (tcp) at `self`; rules and tasks are read at each connection. */
  update(view: { self: string; nodes: string[]; rules: Rule[]; local: LocalTask[] }): Promise<void>;
  close(): void;
}

export function createRelay(log: (msg: string) => void): Relay {
  const servers = new Map<number, Server>();
  // Connections by port: a rule removed (or expired) cuts its open connections too, not only new ones.
  const open = new Map<number, Set<Socket>>();
  let view: Parameters<Relay["update"]>[0] = { self: "", nodes: [], rules: [], local: [] };
  let count = 0;
  const pipe = async (client: Socket, port: number) => {
    const rule = view.rules.find((r) => r.port === port);
    const route = rule ? routeOf(rule, client.remoteAddress ?? "", view.self, view.nodes, view.local, count++) : undefined;
    if (!route || route.to === "refuse") return client.destroy();
    client.pause(); // what the client sends first waits for the upstream
    client.on("error", () => client.destroy());
    const upstream = await firstConnected(route.targets, 1500);
    if (!upstream || client.destroyed) return (upstream?.destroy(), client.destroy());
    const live = open.get(port) ?? open.set(port, new Set()).get(port)!;
    live.add(client);
    const end = () => (live.delete(client), client.destroy(), upstream.destroy());
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream).pipe(client);
  };
  const cut = (port: number) => {
    for (const c of open.get(port) ?? []) c.destroy();
    open.delete(port);
  };
  const listen = (host: string, port: number) =>
    new Promise<Server>((resolve, reject) => {
      const s = createServer((c) => void pipe(c, port));
      s.once("error", reject);
      s.listen({ host, port }, () => resolve(s));
    });
  return {
    async update(next) {
      view = next;
      const want = new Set(next.rules.map((r) => r.port));
      for (const [port, s] of servers) if (!want.has(port)) (s.close(), servers.delete(port), cut(port));
      for (const port of want) {
        if (servers.has(port)) continue;
        try {
          servers.set(port, await listen(next.self, port));
        } catch (e) {
          log(`inbound port ${port}: ${(e as Error).message}`); // retried on the next pass
        }
      }
    },
    close() {
      for (const [port, s] of servers) (s.close(), cut(port));
      servers.clear();
    },
  };
}
