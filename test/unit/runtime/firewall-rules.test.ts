// Firewall rules as data (argv arrays) and the executor against a recording fake iptables.
import { describe, expect, test } from "bun:test";
import {
  egressSteps,
  hostGuardSteps,
  inboundSteps,
  removalSteps,
  setupSteps,
  splitRuleLine,
  tagsIn,
} from "../../../src/runtime/firewall-rules.ts";
import { createFirewall, type RunResult } from "../../../src/runtime/firewall.ts";
import { Upstream } from "../../../src/lib/errors.ts";

const inbound = {
  id: "nr_1",
  protocol: "tcp" as const,
  hostPort: 30001,
  targetIp: "172.30.0.5",
  targetPort: 5432,
  sourceCidrs: ["10.1.0.0/16", "2001:db8::/32", "192.168.5.7/32"],
};
const FWD = [
  "-d",
  "172.30.0.5",
  "-p",
  "tcp",
  "--dport",
  "5432",
  "-m",
  "conntrack",
  "--ctstate",
  "DNAT",
  "--ctorigdstport",
  "30001",
];
const TAG = ["-m", "comment", "--comment", "staxa:nr_1"];

describe("firewall rules as data", () => {
  test("setup creates four chains, hooks each once, drops the metadata address and guards the bridges' INPUT", () => {
    const meta = ["-d", "169.254.169.254/32", "-m", "comment", "--comment", "staxa:metadata", "-j", "DROP"];
    const est = ["-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "RETURN"];
    const loopbackDnat = ["-s", "127.0.0.0/8", "-o", "br-+", "-m", "conntrack", "--ctstate", "DNAT"];
    const martian = ["!", "-i", "lo", "-d", "127.0.0.0/8", "-j", "DROP"];
    expect(setupSteps()).toEqual([
      { argv: ["-N", "STAXA-INBOUND"], tolerate: "Chain already exists" },
      { argv: ["-N", "STAXA-EGRESS"], tolerate: "Chain already exists" },
      { argv: ["-t", "nat", "-N", "STAXA-DNAT"], tolerate: "Chain already exists" },
      { argv: ["-N", "STAXA-HOST"], tolerate: "Chain already exists" },
      { argv: ["-I", "DOCKER-USER", "1", "-j", "STAXA-EGRESS"], unless: ["-C", "DOCKER-USER", "-j", "STAXA-EGRESS"] },
      { argv: ["-I", "DOCKER-USER", "1", "-j", "STAXA-INBOUND"], unless: ["-C", "DOCKER-USER", "-j", "STAXA-INBOUND"] },
      { argv: ["-I", "DOCKER-USER", "1", ...meta], unless: ["-C", "DOCKER-USER", ...meta] },
      {
        argv: ["-t", "nat", "-I", "PREROUTING", "1", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "STAXA-DNAT"],
        unless: ["-t", "nat", "-C", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "STAXA-DNAT"],
      },
      {
        argv: ["-t", "nat", "-I", "OUTPUT", "1", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "STAXA-DNAT"],
        unless: ["-t", "nat", "-C", "OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "STAXA-DNAT"],
      },
      {
        argv: ["-t", "nat", "-I", "POSTROUTING", "1", ...loopbackDnat, "-j", "MASQUERADE"],
        unless: ["-t", "nat", "-C", "POSTROUTING", ...loopbackDnat, "-j", "MASQUERADE"],
      },
      { argv: ["-t", "raw", "-I", "PREROUTING", "1", ...martian], unless: ["-t", "raw", "-C", "PREROUTING", ...martian] },
      { argv: ["-I", "INPUT", "1", "-i", "br-+", "-j", "STAXA-HOST"], unless: ["-C", "INPUT", "-i", "br-+", "-j", "STAXA-HOST"] },
      {
        argv: ["-I", "INPUT", "1", "-i", "docker0", "-j", "STAXA-HOST"],
        unless: ["-C", "INPUT", "-i", "docker0", "-j", "STAXA-HOST"],
      },
      { argv: ["-I", "STAXA-HOST", "1", ...est], unless: ["-C", "STAXA-HOST", ...est] },
    ]);
  });

  test("host guard: new TCP connections to one port are dropped, tagged per port, added once", () => {
    const rule = [
      "-p",
      "tcp",
      "--dport",
      "8080",
      "-m",
      "conntrack",
      "--ctstate",
      "NEW",
      "-m",
      "comment",
      "--comment",
      "staxa:host-8080",
      "-j",
      "DROP",
    ];
    expect(hostGuardSteps(8080)).toEqual([{ argv: ["-A", "STAXA-HOST", ...rule], unless: ["-C", "STAXA-HOST", ...rule] }]);
  });

  test("inbound: accept each IPv4 source, drop the rest, DNAT last (never a port open before its allow-list)", () => {
    expect(inboundSteps(inbound).map((s) => s.argv)).toEqual([
      ["-A", "STAXA-INBOUND", "-s", "10.1.0.0/16", ...FWD, ...TAG, "-j", "ACCEPT"],
      ["-A", "STAXA-INBOUND", "-s", "192.168.5.7/32", ...FWD, ...TAG, "-j", "ACCEPT"],
      ["-A", "STAXA-INBOUND", ...FWD, ...TAG, "-j", "DROP"],
      [
        "-t",
        "nat",
        "-A",
        "STAXA-DNAT",
        "-p",
        "tcp",
        "--dport",
        "30001",
        ...TAG,
        "-j",
        "DNAT",
        "--to-destination",
        "172.30.0.5:5432",
      ],
    ]);
  });

  test("egress: own subnet, replies, DNS, allowed destinations, then drop", () => {
    const t = ["-m", "comment", "--comment", "staxa:egress-ten_1"];
    const from = ["-A", "STAXA-EGRESS", "-s", "172.30.0.0/16"];
    expect(
      egressSteps({
        id: "egress-ten_1",
        subnet: "172.30.0.0/16",
        allow: [{ cidr: "203.0.113.0/24", port: 443, protocol: "tcp" }],
      }).map((s) => s.argv),
    ).toEqual([
      [...from, "-d", "172.30.0.0/16", ...t, "-j", "RETURN"],
      [...from, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", ...t, "-j", "RETURN"],
      [...from, "-p", "udp", "--dport", "53", ...t, "-j", "RETURN"],
      [...from, "-p", "tcp", "--dport", "53", ...t, "-j", "RETURN"],
      [...from, "-d", "203.0.113.0/24", "-p", "tcp", "--dport", "443", ...t, "-j", "RETURN"],
      [...from, ...t, "-j", "DROP"],
    ]);
  });

  test.each([
    [
      '-A X -s 1.2.3.4/32 -m comment --comment "staxa:a b" -j ACCEPT',
      ["-A", "X", "-s", "1.2.3.4/32", "-m", "comment", "--comment", "staxa:a b", "-j", "ACCEPT"],
    ],
    ["-A X -m comment --comment staxa:nr_1 -j DROP", ["-A", "X", "-m", "comment", "--comment", "staxa:nr_1", "-j", "DROP"]],
    ["", []],
  ])("splitRuleLine(%p)", (line, args) => {
    expect(splitRuleLine(line)).toEqual(args);
  });

  const listing = [
    "-N STAXA-INBOUND",
    "-A STAXA-INBOUND -s 10.1.0.0/16 -d 172.30.0.5/32 -p tcp -m tcp --dport 5432 -m comment --comment staxa:nr_1 -j ACCEPT",
    "-A STAXA-INBOUND -s 10.1.0.0/16 -d 172.30.0.6/32 -p tcp -m tcp --dport 80 -m comment --comment staxa:nr_10 -j ACCEPT",
    "-A STAXA-INBOUND -d 172.30.0.9/32 -j DROP",
  ].join("\n");

  test("removal deletes exactly the rules tagged with the id (nr_1, not nr_10, not untagged)", () => {
    expect(removalSteps(listing, "nr_1")).toEqual([
      {
        argv: [
          "-D",
          "STAXA-INBOUND",
          "-s",
          "10.1.0.0/16",
          "-d",
          "172.30.0.5/32",
          "-p",
          "tcp",
          "-m",
          "tcp",
          "--dport",
          "5432",
          "-m",
          "comment",
          "--comment",
          "staxa:nr_1",
          "-j",
          "ACCEPT",
        ],
      },
    ]);
    expect(
      removalSteps(
        "-A STAXA-DNAT -p tcp -m comment --comment staxa:nr_1 -j DNAT --to-destination 1.2.3.4:5",
        "nr_1",
        "nat",
      )[0]!.argv.slice(0, 4),
    ).toEqual(["-t", "nat", "-D", "STAXA-DNAT"]);
    expect(tagsIn(listing)).toEqual(["nr_1", "nr_10"]);
  });
});

/** A fake iptables holding rule lines per chain, enough for -N/-A/-I/-D/-S/-C. */
function fakeIptables(failOn?: (argv: string[]) => boolean) {
  const chains = new Map<string, string[]>([
    ["DOCKER-USER", []],
    ["INPUT", []],
    ["nat:PREROUTING", []],
    ["nat:OUTPUT", []],
    ["nat:POSTROUTING", []],
    ["raw:PREROUTING", []],
  ]);
  const calls: string[][] = [];
  const run = async (argv: string[]): Promise<RunResult> => {
    calls.push(argv);
    if (failOn?.(argv)) return { code: 1, out: "", err: "iptables: boom\n" };
    const table = argv[0] === "-t" ? argv[1] : undefined;
    const [op, chain, ...rest] = table ? argv.slice(2) : argv;
    const key = (table ? `${table}:` : "") + chain;
    const rules = chains.get(key);
    const body = (rest[0] && /^\d+$/.test(rest[0]) ? rest.slice(1) : rest).join(" ");
    if (op === "-N")
      return rules
        ? { code: 1, out: "", err: "iptables: Chain already exists.\n" }
        : (chains.set(key, []), { code: 0, out: "", err: "" });
    if (!rules) return { code: 1, out: "", err: "No chain/target/match by that name.\n" };
    if (op === "-A") rules.push(body);
    else if (op === "-I") rules.unshift(body);
    else if (op === "-C") return { code: rules.includes(body) ? 0 : 1, out: "", err: "" };
    else if (op === "-D") rules.splice(rules.indexOf(body), 1);
    else if (op === "-S")
      return { code: 0, out: [`-N ${chain}`, ...rules.map((r) => `-A ${chain} ${r}`)].join("\n") + "\n", err: "" };
    return { code: 0, out: "", err: "" };
  };
  return { run, chains, calls };
}

describe("firewall executor", () => {
  test("setup is idempotent: chains once, hooks once", async () => {
    const fake = fakeIptables();
    const fw = createFirewall(fake.run);
    await fw.setup();
    await fw.setup();
    expect(fake.chains.get("DOCKER-USER")).toEqual([
      "-d 169.254.169.254/32 -m comment --comment staxa:metadata -j DROP",
      "-j STAXA-INBOUND",
      "-j STAXA-EGRESS",
    ]);
    expect(fake.chains.get("nat:PREROUTING")).toEqual(["-m addrtype --dst-type LOCAL -j STAXA-DNAT"]);
    expect(fake.chains.get("nat:OUTPUT")).toEqual(["-m addrtype --dst-type LOCAL -j STAXA-DNAT"]);
    expect(fake.chains.get("nat:POSTROUTING")).toEqual(["-s 127.0.0.0/8 -o br-+ -m conntrack --ctstate DNAT -j MASQUERADE"]);
    expect(fake.chains.get("raw:PREROUTING")).toEqual(["! -i lo -d 127.0.0.0/8 -j DROP"]);
    expect(fake.chains.get("INPUT")).toEqual(["-i docker0 -j STAXA-HOST", "-i br-+ -j STAXA-HOST"]);
    expect(fake.chains.get("STAXA-HOST")).toEqual(["-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN"]);
  });

  test("guardHost adds each port once, after the established-return; remove() lifts one port's guard", async () => {
    const fake = fakeIptables();
    const fw = createFirewall(fake.run);
    await fw.setup();
    await fw.guardHost([8080, 2019, 8080]);
    await fw.guardHost([8080]);
    const host = fake.chains.get("STAXA-HOST")!;
    expect(host.length).toBe(3);
    expect(host[0]).toContain("ESTABLISHED");
    expect(await fw.listIds()).toEqual(["host-8080", "host-2019"]);
    await fw.remove("host-2019");
    expect(await fw.listIds()).toEqual(["host-8080"]);
  });

  test("add, re-add (replaces), list and remove an inbound rule", async () => {
    const fake = fakeIptables();
    const fw = createFirewall(fake.run);
    await fw.setup();
    await fw.addInbound(inbound);
    await fw.addInbound(inbound);
    expect(fake.chains.get("STAXA-INBOUND")!.length).toBe(3);
    expect(fake.chains.get("nat:STAXA-DNAT")!.length).toBe(1);
    expect(await fw.listIds()).toEqual(["nr_1"]);
    await fw.remove("nr_1");
    expect([fake.chains.get("STAXA-INBOUND"), fake.chains.get("nat:STAXA-DNAT")]).toEqual([[], []]);
  });

  test("an inbound rule makes its port reachable on the host's own 127.0.0.1: route_localnet on its target's bridge, best effort", async () => {
    const fake = fakeIptables();
    const opened: string[] = [];
    const fw = createFirewall(fake.run, async (ip) => void opened.push(ip));
    await fw.setup();
    await fw.addInbound(inbound);
    expect(opened).toEqual(["172.30.0.5"]);
    const failing = createFirewall(fakeIptables().run, async () => {
      throw new Error("read-only /proc/sys");
    });
    await failing.setup();
    await failing.addInbound(inbound); // the port still works from every other address
    expect(await failing.listIds()).toEqual(["nr_1"]);
  });

  test("a failing step is Upstream and leaves no half rule", async () => {
    const fake = fakeIptables((a) => a.includes("DNAT") && a.includes("-A"));
    const fw = createFirewall(fake.run);
    await fw.setup();
    await expect(fw.addInbound(inbound)).rejects.toBeInstanceOf(Upstream);
    expect(fake.chains.get("STAXA-INBOUND")).toEqual([]);
  });

  test("egress swap never opens: a hold DROP sits on top while the rules are replaced, then goes", async () => {
    const fake = fakeIptables();
    const fw = createFirewall(fake.run);
    await fw.setup();
    const policy = { id: "egress-ten_1", subnet: "172.30.0.0/16", allow: [] };
    await fw.setEgress(policy);
    await fw.setEgress({ ...policy, allow: [{ cidr: "203.0.113.0/24", port: 443, protocol: "tcp" as const }] });
    const rules = fake.chains.get("STAXA-EGRESS")!;
    expect(rules.length).toBe(6);
    expect(rules.some((r) => r.includes(":hold"))).toBe(false);
    const holdAt = fake.calls.findIndex((c) => c.includes("staxa:egress-ten_1:hold"));
    const firstDelete = fake.calls.findIndex((c, i) => i > holdAt && c[0] === "-D");
    expect(holdAt).toBeGreaterThanOrEqual(0);
    expect(firstDelete).toBeGreaterThan(holdAt);
    await fw.remove(policy.id);
    expect(fake.chains.get("STAXA-EGRESS")).toEqual([]);
  });
});
