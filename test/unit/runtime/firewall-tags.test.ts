// The firewall executor remembers which tags it has rules for (issue 18): a deploy of a tenant with nothing in the
// firewall (every open one) costs no iptables call, and a removal deletes its own rules without listing everyone's.
import { describe, expect, test } from "bun:test";
import { createFirewall, deletionOf, type RunResult } from "../../../src/runtime/firewall.ts";

/** iptables as chains of rule lines (enough for -N/-A/-I/-D/-S/-C), counting every call. */
function iptables(initial: Record<string, string[]> = {}) {
  const chains = new Map<string, string[]>([
    ["DOCKER-USER", []],
    ["INPUT", []],
    ["nat:PREROUTING", []],
    ["nat:OUTPUT", []],
    ["nat:POSTROUTING", []],
    ["raw:PREROUTING", []],
    ...Object.entries(initial),
  ]);
  const calls: string[][] = [];
  const run = async (argv: string[]): Promise<RunResult> => {
    calls.push(argv);
    const table = argv[0] === "-t" ? `${argv[1]}:` : "";
    const [op, chain, ...rest] = table ? argv.slice(2) : argv;
    const rules = chains.get(table + chain);
    const body = (op === "-I" && /^\d+$/.test(rest[0] ?? "") ? rest.slice(1) : rest).join(" ");
    if (op === "-N")
      return rules
        ? { code: 1, out: "", err: "iptables: Chain already exists.\n" }
        : (chains.set(table + chain, []), { code: 0, out: "", err: "" });
    if (!rules) return { code: 1, out: "", err: "No chain/target/match by that name.\n" };
    if (op === "-A") rules.push(body);
    else if (op === "-I") rules.unshift(body);
    else if (op === "-C") return { code: rules.includes(body) ? 0 : 1, out: "", err: "" };
    else if (op === "-D") {
      if (!rules.includes(body))
        return { code: 1, out: "", err: "iptables: Bad rule (does a matching rule exist in that chain?).\n" };
      rules.splice(rules.indexOf(body), 1);
    } else if (op === "-S")
      return { code: 0, out: [`-N ${chain}`, ...rules.map((r) => `-A ${chain} ${r}`)].join("\n") + "\n", err: "" };
    return { code: 0, out: "", err: "" };
  };
  return { run, chains, calls };
}

const policy = {
  id: "egress-ten_1",
  subnet: "10.224.0.0/27",
  allow: [{ cidr: "203.0.113.0/24", port: 443, protocol: "tcp" as const }],
};
const inbound = {
  id: "nr_1",
  protocol: "tcp" as const,
  hostPort: 30001,
  targetIp: "10.224.0.2",
  targetPort: 5432,
  sourceCidrs: ["198.51.100.0/24"],
};

describe("deletionOf", () => {
  test.each([
    [
      ["-A", "STAXA-EGRESS", "-s", "10.0.0.0/8", "-j", "DROP"],
      ["-D", "STAXA-EGRESS", "-s", "10.0.0.0/8", "-j", "DROP"],
    ],
    [
      ["-I", "STAXA-EGRESS", "1", "-s", "10.0.0.0/8", "-j", "DROP"],
      ["-D", "STAXA-EGRESS", "-s", "10.0.0.0/8", "-j", "DROP"],
    ],
    [
      ["-t", "nat", "-A", "STAXA-DNAT", "-p", "tcp", "-j", "DNAT"],
      ["-t", "nat", "-D", "STAXA-DNAT", "-p", "tcp", "-j", "DNAT"],
    ],
  ])("%j", (argv, want) => {
    expect(deletionOf({ argv })).toEqual({ argv: want, tolerate: "matching rule" });
  });
});

describe("tags the executor knows", () => {
  test("after setup, removing a tag with no rules (an open tenant's egress) runs no iptables at all", async () => {
    const fake = iptables();
    const fw = createFirewall(fake.run);
    await fw.setup();
    const before = fake.calls.length;
    for (let i = 0; i < 1000; i++) await fw.remove(`egress-ten_${i}`);
    expect(fake.calls.length).toBe(before);
  });

  test("rules present before the process started are found by setup's one listing and deleted by tag", async () => {
    const fake = iptables({
      "STAXA-EGRESS": [
        "-s 10.224.0.0/27 -m comment --comment staxa:egress-ten_old -j DROP",
        "-s 10.224.0.32/27 -m comment --comment staxa:egress-ten_other -j DROP",
      ],
    });
    const fw = createFirewall(fake.run);
    await fw.setup();
    const before = fake.calls.length;
    await fw.remove("egress-ten_old");
    expect(fake.calls.slice(before)).toEqual([
      ["-D", "STAXA-EGRESS", "-s", "10.224.0.0/27", "-m", "comment", "--comment", "staxa:egress-ten_old", "-j", "DROP"],
    ]);
    expect(fake.chains.get("STAXA-EGRESS")).toEqual(["-s 10.224.0.32/27 -m comment --comment staxa:egress-ten_other -j DROP"]);
  });

  test("a swap and a removal touch only the tenant's own rules: no listing of the chains", async () => {
    const fake = iptables();
    const fw = createFirewall(fake.run);
    await fw.setup();
    await fw.addInbound(inbound);
    await fw.setEgress(policy);
    await fw.setEgress({ ...policy, allow: [] });
    await fw.remove(policy.id);
    await fw.remove(inbound.id);
    const listings = fake.calls.filter((c) => c.includes("-S"));
    expect(listings.length).toBe(4); // setup's, once per chain
    expect([fake.chains.get("STAXA-EGRESS"), fake.chains.get("STAXA-INBOUND"), fake.chains.get("nat:STAXA-DNAT")]).toEqual([
      [],
      [],
      [],
    ]);
  });

  test("a rule deleted behind the executor's back (a flush) does not fail the removal", async () => {
    const fake = iptables();
    const fw = createFirewall(fake.run);
    await fw.setup();
    await fw.setEgress(policy);
    fake.chains.set("STAXA-EGRESS", []);
    await fw.remove(policy.id);
    expect(fake.chains.get("STAXA-EGRESS")).toEqual([]);
  });
});
