// Executes firewall-rules.ts steps with iptables (argv arrays via Bun.spawn, never a shell). The only iptables caller.
import { Upstream } from "../lib/errors.ts";
import {
  CHAIN,
  egressHoldStep,
  egressSteps,
  hostGuardId,
  hostGuardSteps,
  inboundSteps,
  localnetSysctl,
  removalSteps,
  setupSteps,
  tagsIn,
  type EgressPolicy,
  type InboundRule,
  type Step,
} from "./firewall-rules.ts";

export interface RunResult {
  code: number;
  out: string;
  err: string;
}
/** Runs `iptables -w <argv>`; injectable so tests can record instead of touching the host. */
export type IptablesRunner = (argv: string[]) => Promise<RunResult>;

export interface Firewall {
  /** Creates and hooks our chains; idempotent, run at start-up before re-applying rules. */
  setup(): Promise<void>;
  /** Opens an inbound port for its allowed sources and the host itself (replaces any rules already tagged with its id). */
  addInbound(rule: InboundRule): Promise<void>;
  /** Restricts a tenant's egress to DNS plus `allow` (replaces its previous policy, never open in between). */
  setEgress(policy: EgressPolicy): Promise<void>;
  /** Closes these host TCP ports (API, Caddy admin) to new connections from the Docker bridges; idempotent. */
  guardHost(ports: number[]): Promise<void>;
  /** Removes every rule tagged with `id` (an inbound rule, or an egress policy id to reopen egress). */
  remove(id: string): Promise<void>;
  /** Ids of every tagged rule present now. */
  listIds(): Promise<string[]>;
}

/**
 * Lets the host reach an inbound port on 127.0.0.1: route_localnet on the bridge leading to `targetIp` (see
 * setupSteps). Injectable: a test firewall never touches the host.
 */
export type LocalnetSwitch = (targetIp: string) => Promise<void>;

/** The real switch: finds the bridge with `ip route get` (argv, no shell) and sets its route_localnet. */
export const enableRouteLocalnet: LocalnetSwitch = async (targetIp) => {
  const proc = Bun.spawn(["ip", "-o", "-4", "route", "get", targetIp], { stdout: "pipe", stderr: "ignore" });
  const [code, out] = await Promise.all([proc.exited, new Response(proc.stdout).text()]);
  const dev = / dev (\S+)/.exec(out)?.[1];
  if (code !== 0 || !dev || !/^[A-Za-z0-9_.-]{1,15}$/.test(dev))
    throw new Upstream("firewall", `no interface found for ${targetIp}`);
  await Bun.write(localnetSysctl(dev), "1");
};

/** The real runner: `iptables -w` waits for the xtables lock instead of failing beside dockerd. */
export const spawnIptables: IptablesRunner = async (argv) => {
  const proc = Bun.spawn(["iptables", "-w", ...argv], { stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, out, err };
};

/** The step deleting what `s` added (`-A chain rule` / `-I chain n rule` → `-D chain rule`). */
export function deletionOf(s: Step): Step {
  const argv = [...s.argv];
  const i = argv.findIndex((a) => a === "-A" || a === "-I");
  const dropPosition = argv[i] === "-I" && /^\d+$/.test(argv[i + 2] ?? "") ? 1 : 0;
  argv.splice(i, 1 + 1 + dropPosition, "-D", argv[i + 1]!);
  return { argv, tolerate: "matching rule" }; // already gone (a flush, a reboot): nothing left to delete
}

const CHAINS = [
  ["filter", CHAIN.inbound],
  ["filter", CHAIN.egress],
  ["nat", CHAIN.dnat],
  ["filter", CHAIN.host],
] as const;

/** The firewall; given a runner (a test's fake), loopback access is left alone unless `localnet` is given too. */
export function createFirewall(runner?: IptablesRunner, localnet?: LocalnetSwitch): Firewall {
  const run = runner ?? spawnIptables;
  const openLoopback = localnet ?? (runner ? async () => {} : enableRouteLocalnet);
  // The rules present, by tag, as the steps deleting them: read from one listing of our chains at setup, then kept
  // as rules come and go. Removing a tag runs exactly its deletions, and a tenant with nothing applied (every open
  // one) costs no iptables call at all: no listing of every tenant's rules per deploy. Before setup: listings.
  let present: Map<string, Step[]> | undefined;
  const apply = async (steps: Step[]): Promise<Step[]> => {
    const ran: Step[] = [];
    for (const s of steps) {
      if (s.unless && (await run(s.unless)).code === 0) continue;
      const r = await run(s.argv);
      if (r.code !== 0 && !(s.tolerate && r.err.includes(s.tolerate))) {
        throw new Upstream("firewall", `iptables ${s.argv.slice(0, 3).join(" ")}: ${r.err.trim().split("\n")[0] ?? "failed"}`);
      }
      ran.push(s);
    }
    return ran;
  };
  /** Applies tagged rules and remembers their deletions, also those of a prefix that ran before a failure. */
  const add = async (id: string, steps: Step[]) => {
    const remember = (done: Step[]) => present?.set(id, [...(present.get(id) ?? []), ...done.map(deletionOf)]);
    const done: Step[] = [];
    try {
      for (const s of steps) done.push(...(await apply([s])));
    } finally {
      remember(done);
    }
  };
  const listing = async (table: "filter" | "nat", chain: string): Promise<string> => {
    const r = await run(table === "nat" ? ["-t", "nat", "-S", chain] : ["-S", chain]);
    if (r.code !== 0) throw new Upstream("firewall", `iptables -S ${chain}: ${r.err.trim().split("\n")[0] ?? "failed"}`);
    return r.out;
  };
  const removeTag = async (id: string) => {
    if (present) {
      const deletions = present.get(id);
      if (!deletions) return;
      present.delete(id);
      try {
        await apply(deletions);
      } catch (err) {
        present.set(id, deletions); // retried whole: a deletion already done is tolerated
        throw err;
      }
      return;
    }
    for (const [table, chain] of CHAINS)
      await apply(removalSteps(await listing(table, chain), id, table === "nat" ? "nat" : undefined));
  };
  const remove = async (id: string) => {
    await removeTag(id);
    await removeTag(`${id}:hold`);
  };
  return {
    async setup() {
      await apply(setupSteps());
      const found = new Map<string, Step[]>();
      for (const [table, chain] of CHAINS) {
        const text = await listing(table, chain);
        for (const tag of tagsIn(text))
          found.set(tag, [...(found.get(tag) ?? []), ...removalSteps(text, tag, table === "nat" ? "nat" : undefined)]);
      }
      present = found;
    },
    async addInbound(rule) {
      await remove(rule.id);
      try {
        await add(rule.id, inboundSteps(rule));
      } catch (err) {
        await remove(rule.id).catch(() => undefined); // never leave half a rule (a DNAT without its allow-list)
        throw err;
      }
      // Best effort: without it the port still works from everywhere but the host's own 127.0.0.1.
      await openLoopback(rule.targetIp).catch(() => undefined);
    },
    async setEgress(policy) {
      // Fail closed while swapping: a DROP for the whole subnet sits on top until the new rules are in.
      // If the swap fails the hold stays (egress denied, not open) until a retry or remove() clears it.
      await add(`${policy.id}:hold`, [egressHoldStep(policy)]);
      await removeTag(policy.id);
      await add(policy.id, egressSteps(policy));
      await removeTag(`${policy.id}:hold`);
    },
    async guardHost(ports) {
      for (const p of new Set(ports)) await add(hostGuardId(p), hostGuardSteps(p));
    },
    remove,
    async listIds() {
      const all = [];
      for (const [table, chain] of CHAINS) all.push(await listing(table, chain));
      return [...new Set(all.flatMap(tagsIn))];
    },
  };
}
