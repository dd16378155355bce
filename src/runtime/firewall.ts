// Executes firewall-rules.ts steps with iptables (argv arrays via Bun.spawn, never a shell). The only iptables caller.
import { Upstream } from "../lib/errors.ts";
import { CHAIN, egressHoldStep, egressSteps, hostGuardSteps, inboundSteps, removalSteps, setupSteps, tagsIn, type EgressPolicy, type InboundRule, type Step } from "./firewall-rules.ts";

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
  /** Opens an inbound port for its allowed sources (replaces any rules already tagged with its id). */
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

/** The real runner: `iptables -w` waits for the xtables lock instead of failing beside dockerd. */
export const spawnIptables: IptablesRunner = async (argv) => {
  const proc = Bun.spawn(["iptables", "-w", ...argv], { stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, out, err };
};

export function createFirewall(run: IptablesRunner = spawnIptables): Firewall {
  const apply = async (steps: Step[]) => {
    for (const s of steps) {
      if (s.unless && (await run(s.unless)).code === 0) continue;
      const r = await run(s.argv);
      if (r.code !== 0 && !(s.tolerate && r.err.includes(s.tolerate))) {
        throw new Upstream("firewall", `iptables ${s.argv.slice(0, 3).join(" ")}: ${r.err.trim().split("\n")[0] ?? "failed"}`);
      }
    }
  };
  const listing = async (table: "filter" | "nat", chain: string): Promise<string> => {
    const r = await run(table === "nat" ? ["-t", "nat", "-S", chain] : ["-S", chain]);
    if (r.code !== 0) throw new Upstream("firewall", `iptables -S ${chain}: ${r.err.trim().split("\n")[0] ?? "failed"}`);
    return r.out;
  };
  const removeTag = async (id: string) => {
    await apply([
      ...removalSteps(await listing("filter", CHAIN.inbound), id),
      ...removalSteps(await listing("filter", CHAIN.egress), id),
      ...removalSteps(await listing("nat", CHAIN.dnat), id, "nat"),
      ...removalSteps(await listing("filter", CHAIN.host), id),
    ]);
  };
  const remove = async (id: string) => {
    await removeTag(id);
    await removeTag(`${id}:hold`);
  };
  return {
    setup: () => apply(setupSteps()),
    async addInbound(rule) {
      await remove(rule.id);
      try {
        await apply(inboundSteps(rule));
      } catch (err) {
        await remove(rule.id).catch(() => undefined); // never leave half a rule (a DNAT without its allow-list)
        throw err;
      }
    },
    async setEgress(policy) {
      // Fail closed while swapping: a DROP for the whole subnet sits on top until the new rules are in.
      // If the swap fails the hold stays (egress denied, not open) until a retry or remove() clears it.
      await apply([egressHoldStep(policy)]);
      await removeTag(policy.id);
      await apply(egressSteps(policy));
      await removeTag(`${policy.id}:hold`);
    },
    guardHost: (ports) => apply([...new Set(ports)].flatMap(hostGuardSteps)),
    remove,
    async listIds() {
      const all = [await listing("filter", CHAIN.inbound), await listing("filter", CHAIN.egress), await listing("nat", CHAIN.dnat), await listing("filter", CHAIN.host)];
      return [...new Set(all.flatMap(tagsIn))];
    },
  };
}
