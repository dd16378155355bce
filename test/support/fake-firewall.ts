// An in-memory Firewall for route and core tests: what is open, what egress is allowed, what failed.
import type { Firewall } from "../../src/runtime/firewall.ts";
import type { EgressPolicy, InboundRule } from "../../src/runtime/firewall-rules.ts";
import { Upstream } from "../../src/lib/errors.ts";

export class FakeFirewall implements Firewall {
  inbound = new Map<string, InboundRule>();
  egress = new Map<string, EgressPolicy>();
  guarded = new Set<number>();
  setups = 0;
  /** Every mutating call, in order (e.g. "addInbound nr_x"). */
  calls: string[] = [];
  /** When set, the next matching call throws Upstream (as iptables failing would). */
  failOn: ((call: string) => boolean) | undefined;

  private step(call: string): void {
    if (this.failOn?.(call)) throw new Upstream("firewall", `iptables failed (fake): ${call}`);
    this.calls.push(call);
  }

  async setup() {
    this.step("setup");
    this.setups++;
  }
  async addInbound(rule: InboundRule) {
    this.step(`addInbound ${rule.id}`);
    this.inbound.set(rule.id, { ...rule, sourceCidrs: [...rule.sourceCidrs] });
  }
  async setEgress(policy: EgressPolicy) {
    this.step(`setEgress ${policy.id}`);
    this.egress.set(policy.id, { ...policy, allow: policy.allow.map((a) => ({ ...a })) });
  }
  async guardHost(ports: number[]) {
    this.step(`guardHost ${ports.join(",")}`);
    for (const p of ports) this.guarded.add(p);
  }
  async remove(id: string) {
    this.step(`remove ${id}`);
    this.inbound.delete(id);
    this.egress.delete(id);
  }
  async listIds() {
    return [...this.inbound.keys(), ...this.egress.keys()];
  }
  /** A copy of the state, to compare before and after a refused request. */
  snapshot() {
    return JSON.stringify({ inbound: [...this.inbound.entries()], egress: [...this.egress.entries()] });
  }
}
