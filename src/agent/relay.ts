// Inbound rules on every node: the agent listens on each rule's port at its node's address. A connection from a
// source outside the rule's CIDRs is closed at once; an allowed one is piped to a local task of the target service
// (its docker_gwbridge address), else to a node that runs one, whose agent pipes it locally. A hop from another
// node is accepted from cluster addresses only (isolation keeps every task away from those) and never goes on.
import { createServer, connect, type Server, type Socket } from "node:net";
import { overlaps, parseCidr } from "../lib/cidr.ts";
import type { AgentState, LocalTask } from "./state.ts";

type Rule = AgentState["inbound"][number];
export type Route = { to: "refuse" } | { to: "local" | "node"; host: string; port: number };

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

/** Where one connection from `remote` goes (pure). `n` spreads connections over the candidates. */
export function routeOf(rule: Rule, remote: string, self: string, nodes: string[], local: LocalTask[], n = 0): Route {
  const mine = local.filter((t) => t.tenant === rule.tenant && t.service === rule.service);
  const fromNode = nodes.includes(v4(remote)) && v4(remote) !== self;
  if (!fromNode && !allowed(remote, rule.source_cidrs)) return { to: "refuse" };
  if (mine.length) return { to: "local", host: mine[n % mine.length]!.ip, port: rule.target_port };
  const others = rule.nodes.filter((a) => a !== self);
  if (fromNode || !others.length) return { to: "refuse" }; // one hop at most
  return { to: "node", host: others[n % others.length]!, port: rule.port };
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
  const pipe = (client: Socket, port: number) => {
    const rule = view.rules.find((r) => r.port === port);
    const route = rule ? routeOf(rule, client.remoteAddress ?? "", view.self, view.nodes, view.local, count++) : undefined;
    if (!route || route.to === "refuse") return client.destroy();
    const upstream = connect({ host: route.host, port: route.port });
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
      const s = createServer((c) => pipe(c, port));
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
