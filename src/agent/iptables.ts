// The agent's one iptables executor: runs plan.ts steps in order (argv via the firewall's runner, never a shell) and
// keeps, per tag, the deletions of what it added; at start it reads them back from its chains (a restarted agent).
import { removalSteps, tagsIn, type Step } from "../runtime/firewall-rules.ts";
import { spawnIptables, type IptablesRunner } from "../runtime/firewall.ts";
import { deletionsOf, GROUPS, nodeSetupSteps, NODE_CHAIN, planRules } from "./plan.ts";

const isGroup = (id: string) => GROUPS.some((g) => id.startsWith(g));

export interface NodeFirewall {
  /** Chains and hooks (idempotent); then the groups present are read back once. */
  setup(): Promise<void>;
  /** Makes the node's groups exactly `desired`; returns how many steps ran. */
  apply(desired: Map<string, Step[]>): Promise<number>;
}

export function nodeFirewall(run: IptablesRunner = spawnIptables): NodeFirewall {
  let applied: Map<string, Step[]> | undefined;
  const exec = async (s: Step): Promise<void> => {
    if (s.unless && (await run(s.unless)).code === 0) return;
    const r = await run(s.argv);
    if (r.code !== 0 && !(s.tolerate && r.err.includes(s.tolerate)))
      throw new Error(`iptables ${s.argv.slice(0, 3).join(" ")}: ${r.err.trim().split("\n")[0] ?? "failed"}`);
  };
  return {
    async setup() {
      for (const s of nodeSetupSteps()) await exec(s);
      if (applied) return;
      const found = new Map<string, Step[]>();
      for (const chain of [...Object.values(NODE_CHAIN), "INPUT"]) {
        const r = await run(["-S", chain]);
        if (r.code !== 0) throw new Error(`iptables -S ${chain}: ${r.err.trim()}`);
        for (const id of tagsIn(r.out).filter(isGroup)) found.set(id, [...(found.get(id) ?? []), ...removalSteps(r.out, id)]);
      }
      applied = found;
    },
    async apply(desired) {
      if (!applied) throw new Error("node firewall: setup() first");
      const state = applied;
      const steps = planRules(desired, state);
      const adding = new Map([...desired].filter(([id]) => !state.has(id)));
      let i = 0;
      try {
        for (const [id, group] of adding) {
          try {
            for (let n = 0; n < group.length; n++) await exec(steps[i++]!);
          } catch (err) {
            // Never half a group: what went in comes out (a rule never added is tolerated), retried whole next pass.
            for (const d of deletionsOf(group)) await exec(d).catch(() => undefined);
            throw err;
          }
          state.set(id, deletionsOf(group));
        }
        for (; i < steps.length; i++) await exec(steps[i]!);
      } finally {
        // A gone group leaves `applied` once its deletions all ran (a failed one is retried: a repeat is tolerated).
        if (i === steps.length) for (const id of [...state.keys()]) if (!desired.has(id)) state.delete(id);
      }
      return steps.length;
    },
  };
}
