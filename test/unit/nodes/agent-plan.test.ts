// The node agent's pure parts: its iptables groups from the manager's state and its tasks, the plan from what is
// applied to what is desired, and where an inbound connection goes (refused, a local task, another node).
import { describe, expect, test } from "bun:test";
import {
  desiredGroups,
  inputSteps,
  isolationSteps,
  nodeSetupSteps,
  planRules,
  taskEgressSteps,
} from "../../../src/agent/plan.ts";
import { allowed, routeOf } from "../../../src/agent/relay.ts";
import type { AgentState, LocalTask } from "../../../src/agent/state.ts";

const state: AgentState = {
  version: "v1",
  nodes: [
    { id: "m", address: "10.0.0.11" },
    { id: "w", address: "10.0.0.12" },
  ],
  proxy_ports: [80, 443],
  tenant_pool: "10.224.0.0/12",
  egress: [{ tenant: "locked", allow: [{ cidr: "1.2.3.0/24", port: 443, protocol: "tcp" }] }],
  inbound: [
    {
      id: "nr_1",
      port: 30001,
      source_cidrs: ["192.0.2.0/24"],
      tenant: "shop",
      service: "web",
      target_port: 8080,
      nodes: ["10.0.0.11", "10.0.0.12"],
    },
  ],
};
const task = (tenant: string, ip: string, service = "web"): LocalTask => ({ id: `c-${ip}`, tenant, service, ip });
const tagOf = (argv: string[]) => argv[argv.indexOf("--comment") + 1];

describe("node iptables groups", () => {
  test("set-up: chains, the hooks from docker_gwbridge, replies first, the unknown-source DROP last in egress", () => {
    expect(nodeSetupSteps().map((s) => s.argv.join(" "))).toEqual([
      "-N STAXA-NODE-ISO",
      "-N STAXA-NODE-EGRESS",
      "-I DOCKER-USER 1 -i docker_gwbridge -j STAXA-NODE-EGRESS",
      "-I DOCKER-USER 1 -i docker_gwbridge -j STAXA-NODE-ISO",
      "-I STAXA-NODE-ISO 1 -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
      "-I STAXA-NODE-EGRESS 1 -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
      "-A STAXA-NODE-EGRESS -m conntrack --ctstate NEW -m comment --comment staxa:node-unknown -j DROP",
    ]);
    // each hook only once: a `-C` check guards every insert
    expect(
      nodeSetupSteps()
        .slice(2)
        .every((s) => s.unless?.[0] === "-C"),
    ).toBe(true);
  });

  test("isolation drops metadata, other tasks via the bridge, every cluster address by original destination (but Caddy's ports), the tenant pool", () => {
    const steps = isolationSteps({ ...state, proxy_ports: [80] }, ["10.0.0.1", "10.0.0.11"]);
    const id = tagOf(steps[0]!.argv);
    expect(id).toMatch(/^staxa:node-iso:[0-9a-f]{10}$/);
    const c = ["-m", "comment", "--comment", id];
    const rule = (...m: string[]) => ["-A", "STAXA-NODE-ISO", ...m, ...c, "-j", "DROP"];
    const proxy = (a: string) => [
      "-A",
      "STAXA-NODE-ISO",
      "-p",
      "tcp",
      "-m",
      "conntrack",
      "--ctorigdst",
      a,
      "--ctorigdstport",
      "80",
      ...c,
      "-j",
      "RETURN",
    ];
    expect(steps.map((s) => s.argv)).toEqual([
      proxy("10.0.0.1/32"),
      proxy("10.0.0.11/32"),
      proxy("10.0.0.12/32"),
      rule("-d", "169.254.169.254/32"),
      rule("-o", "docker_gwbridge"),
      rule("-m", "conntrack", "--ctorigdst", "10.0.0.1/32"),
      rule("-m", "conntrack", "--ctorigdst", "10.0.0.11/32"),
      rule("-m", "conntrack", "--ctorigdst", "10.0.0.12/32"),
      rule("-d", "10.224.0.0/12"),
    ]);
    // a node joining is a new group (new tag), so the old one is removed only after the new one is in
    const more = isolationSteps({ ...state, nodes: [...state.nodes, { id: "x", address: "10.0.0.13" }] }, []);
    expect(tagOf(more[0]!.argv)).not.toBe(id);
  });

  test("a restricted task gets DNS and its allow-list then DROP, inserted at the top in order; an open task one RETURN", () => {
    const locked = taskEgressSteps(task("locked", "172.18.0.5"), state.egress);
    // inserted at position 1 in reverse, so the chain reads in this order
    const reads = locked.map((s) => s.argv.slice(3)).reverse();
    const id = tagOf(locked[0]!.argv);
    expect(id).toMatch(/^staxa:node-eg:172\.18\.0\.5:[0-9a-f]{10}$/);
    const c = ["-m", "comment", "--comment", id];
    const src = ["-s", "172.18.0.5/32"];
    expect(reads).toEqual([
      [...src, "-d", "172.18.0.5/32", ...c, "-j", "RETURN"],
      [...src, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", ...c, "-j", "RETURN"],
      [...src, "-p", "udp", "--dport", "53", ...c, "-j", "RETURN"],
      [...src, "-p", "tcp", "--dport", "53", ...c, "-j", "RETURN"],
      [...src, "-d", "1.2.3.0/24", "-p", "tcp", "--dport", "443", ...c, "-j", "RETURN"],
      [...src, ...c, "-j", "DROP"],
    ]);
    expect(locked.every((s) => s.argv.slice(0, 3).join(" ") === "-I STAXA-NODE-EGRESS 1")).toBe(true);
    const open = taskEgressSteps(task("shop", "172.18.0.6"), state.egress);
    expect(open.map((s) => s.argv.slice(3))).toEqual([
      ["-s", "172.18.0.6/32", "-m", "comment", "--comment", tagOf(open[0]!.argv), "-j", "RETURN"],
    ]);
  });

  test("INPUT: from the tasks, only Caddy's ports on the node itself; in order, inserted at the top", () => {
    const steps = inputSteps(state);
    const id = tagOf(steps[0]!.argv);
    expect(id).toMatch(/^staxa:node-in:[0-9a-f]{10}$/);
    const c = ["-m", "comment", "--comment", id];
    expect(steps.map((s) => s.argv).reverse()).toEqual([
      ["-I", "INPUT", "1", "-i", "docker_gwbridge", "-p", "tcp", "-m", "multiport", "--dports", "80,443", ...c, "-j", "ACCEPT"],
      ["-I", "INPUT", "1", "-i", "docker_gwbridge", "-m", "conntrack", "--ctstate", "NEW", ...c, "-j", "DROP"],
    ]);
  });

  test("desired groups: isolation, INPUT and one per local task, by tag", () => {
    const g = desiredGroups(state, [task("shop", "172.18.0.6"), task("locked", "172.18.0.5")], []);
    expect([...g.keys()].map((k) => k.replace(/:[0-9a-f]{10}$/, ""))).toEqual([
      "node-iso",
      "node-in",
      "node-eg:172.18.0.5",
      "node-eg:172.18.0.6",
    ]);
  });
});

describe("planRules", () => {
  const add = (id: string) => [{ argv: ["-A", "C", "-m", "comment", "--comment", `staxa:${id}`, "-j", "DROP"] }];
  const del = (id: string) => [{ argv: ["-D", "C", "-m", "comment", "--comment", `staxa:${id}`, "-j", "DROP"] }];
  const cases: Array<[string, string[], string[], string[][]]> = [
    ["nothing applied: every group added", ["a", "b"], [], [...add("a"), ...add("b")].map((s) => s.argv)],
    ["all applied: nothing to do", ["a", "b"], ["a", "b"], []],
    ["a changed group (new tag) goes in before the old leaves", ["a2"], ["a1"], [add("a2")[0]!.argv, del("a1")[0]!.argv]],
    ["a gone group's deletions only", [], ["a"], del("a").map((s) => s.argv)],
  ];
  for (const [name, desired, applied, want] of cases)
    test(name, () => {
      const plan = planRules(new Map(desired.map((id) => [id, add(id)])), new Map(applied.map((id) => [id, del(id)])));
      expect(plan.map((s) => s.argv)).toEqual(want);
    });
});

describe("inbound relay routing", () => {
  const rule = state.inbound[0]!;
  const nodes = state.nodes.map((n) => n.address);
  const here = [task("shop", "172.18.0.6"), task("shop", "172.18.0.7", "worker"), task("other", "172.18.0.8")];

  test("allowed(): CIDRs and bare addresses, IPv4-mapped sources", () => {
    expect(allowed("192.0.2.9", ["192.0.2.0/24"])).toBe(true);
    expect(allowed("::ffff:192.0.2.9", ["192.0.2.9"])).toBe(true);
    expect(allowed("198.51.100.1", ["192.0.2.0/24"])).toBe(false);
    expect(allowed("not-an-ip", ["0.0.0.0/0"])).toBe(false);
  });

  const pipe = (...targets: string[]) => ({
    to: "pipe",
    targets: targets.map((t) => ({ host: t.split(":")[0], port: Number(t.split(":")[1]) })),
  });
  const cases: Array<[string, string, LocalTask[], string[], unknown]> = [
    ["a source outside the CIDRs is refused", "198.51.100.1", here, nodes, { to: "refuse" }],
    [
      "an allowed source: the local task of the service, then the other node",
      "192.0.2.9",
      here,
      nodes,
      pipe("172.18.0.6:8080", "10.0.0.11:30001"),
    ],
    ["no local task: on to a node that runs one, on the rule's port", "192.0.2.9", [], nodes, pipe("10.0.0.11:30001")],
    ["a hop from another node goes to local tasks only, whatever its CIDRs", "10.0.0.11", here, nodes, pipe("172.18.0.6:8080")],
    ["a hop from another node never goes on (one hop at most)", "10.0.0.11", [], nodes, { to: "refuse" }],
    ["no task anywhere else: refused", "192.0.2.9", [], ["10.0.0.12"], { to: "refuse" }],
  ];
  for (const [name, from, local, where, want] of cases)
    test(name, () => expect(routeOf({ ...rule, nodes: where }, from, "10.0.0.12", nodes, local)).toEqual(want as never));

  test("connections are spread over the local tasks, each list rotated by the counter", () => {
    const two = [task("shop", "172.18.0.6"), task("shop", "172.18.0.7")];
    const first = (n: number) =>
      (routeOf(rule, "192.0.2.9", "10.0.0.12", nodes, two, n) as { targets: Array<{ host: string }> }).targets;
    expect(first(0).map((t) => t.host)).toEqual(["172.18.0.6", "172.18.0.7", "10.0.0.11"]);
    expect(first(1).map((t) => t.host)).toEqual(["172.18.0.7", "172.18.0.6", "10.0.0.11"]);
  });

  test("this node's own address is not a trusted hop (a connection from itself meets the CIDRs)", () => {
    expect(routeOf(rule, "10.0.0.12", "10.0.0.12", nodes, here)).toEqual({ to: "refuse" });
  });
});
