// `staxa agent`: runs on every node of a swarm (as a systemd unit beside dockerd), polls the manager's desired
// network state and makes its node match it: iptables (isolation, restricted egress) and inbound-rule listeners.
// It passes again at once when a container starts or dies on its node; without the manager it keeps the last state.
import type { AgentState } from "./state.ts";
import { desiredGroups } from "./plan.ts";
import { nodeFirewall, type NodeFirewall } from "./iptables.ts";
import { localEngine, type LocalEngine } from "./local.ts";
import { createRelay } from "./relay.ts";

export interface AgentOptions {
  /** The appliance's base URL as this node reaches it, e.g. http://10.0.0.1:3000. */
  manager: string;
  token: string;
  dockerSocket: string;
  intervalMs: number;
  log?: (msg: string) => void;
}

/** The path the agent polls (core/nodes/agent-state.ts answers it). */
export const STATE_PATH = "/api/v1/nodes/agent/state";

async function fetchState(o: AgentOptions): Promise<AgentState> {
  const res = await fetch(new URL(STATE_PATH, o.manager), {
    headers: { authorization: `Bearer ${o.token}` },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`manager answered ${res.status}`); // never echo the token or the body
  return ((await res.json()) as { data: AgentState }).data;
}

/** The manager's address as this node sees it: tasks never reach it either. */
function managerAddress(url: string): string[] {
  const host = new URL(url).hostname;
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) ? [host] : [];
}

/** Runs until the returned stop() is called. */
export function startAgent(o: AgentOptions, parts?: { engine?: LocalEngine; firewall?: NodeFirewall }): () => void {
  const log = o.log ?? ((m: string) => process.stderr.write(`staxa agent: ${m}\n`));
  const engine = parts?.engine ?? localEngine(o.dockerSocket);
  const fw = parts?.firewall ?? nodeFirewall();
  const relay = createRelay(log);
  const extra = managerAddress(o.manager);
  let state: AgentState | undefined;
  let stopped = false;
  let running: Promise<void> | undefined;
  let again: boolean | undefined; // undefined: no pass asked for meanwhile; true: one that polls

  const pass = async (poll: boolean) => {
    if (poll) {
      try {
        const next = await fetchState(o);
        if (next.version !== state?.version) log(`state ${next.version}`);
        state = next;
      } catch (e) {
        log(`manager unreachable (${(e as Error).message}); keeping the last state`);
      }
    }
    if (!state) return; // nothing is enforced before the first state: a node never fails closed on its own
    const [self, tasks] = await Promise.all([engine.self(), engine.tasks()]);
    await fw.setup();
    const ran = await fw.apply(desiredGroups(state, tasks, extra));
    if (ran) log(`applied ${ran} iptables steps (${tasks.length} local tasks)`);
    await relay.update({ self: self.address, nodes: state.nodes.map((n) => n.address), rules: state.inbound, local: tasks });
  };
  /** One pass at a time; a request meanwhile runs one more pass after it. */
  const trigger = (poll: boolean) => {
    if (running) return void (again = again || poll);
    running = pass(poll)
      .catch((e) => log(`pass failed: ${(e as Error).message}`))
      .finally(() => {
        running = undefined;
        const next = again;
        again = undefined;
        if (next !== undefined && !stopped) trigger(next);
      });
  };
  const timer = setInterval(() => trigger(true), o.intervalMs);
  const unwatch = engine.watch(() => trigger(false));
  trigger(true);
  return () => {
    stopped = true;
    clearInterval(timer);
    unwatch();
    relay.close();
  };
}
