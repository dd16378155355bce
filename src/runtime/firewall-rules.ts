// Pure: iptables rules as data. Each function returns argv arrays (after `iptables -w`), never a shell string.
// Chains of our own hang off DOCKER-USER (forwarded traffic), nat PREROUTING and OUTPUT (inbound ports, from
// outside and from the host itself) and INPUT (traffic from the Docker bridges to the host itself); every rule is tagged `-m comment --comment staxa:<id>` so it can be
// found and removed by id, after a crash too.

export const CHAIN = { inbound: "STAXA-INBOUND", egress: "STAXA-EGRESS", dnat: "STAXA-DNAT", host: "STAXA-HOST" } as const;

/** The cloud metadata address: no container reaches it, whatever its egress mode. */
export const METADATA_IP = "169.254.169.254";
/** Bridges whose traffic to the host is guarded: tenant networks (user-defined, `br-…`) and docker0 (builds). */
export const BRIDGES = ["br-+", "docker0"] as const;

/** A connection the host made to 127.0.0.1:<inbound port>, DNATed to a tenant container on its bridge. */
const LOOPBACK_DNAT = ["-s", "127.0.0.0/8", "-o", "br-+", "-m", "conntrack", "--ctstate", "DNAT"];

/** The sysctl (per interface) that lets a loopback-sourced packet be routed out of the bridge an inbound port forwards to. */
export const localnetSysctl = (dev: string): string => `/proc/sys/net/ipv4/conf/${dev}/route_localnet`;

/** One iptables invocation; `unless` is a `-C` check whose success means the step is already done. */
export interface Step {
  argv: string[];
  unless?: string[];
  /** The step may fail harmlessly with this message (e.g. a chain that already exists). */
  tolerate?: string;
}

export interface InboundRule {
  id: string;
  protocol: "tcp" | "udp";
  /** Host port from the pool that clients connect to. */
  hostPort: number;
  /** The target container's IP on its tenant network, and its port. */
  targetIp: string;
  targetPort: number;
  /** Only these sources may connect. IPv4 only: tenant containers have no IPv6 address to forward to. */
  sourceCidrs: string[];
}

export interface EgressPolicy {
  /** Tag of the policy, e.g. `egress-<tenant id>`. */
  id: string;
  /** The tenant network's subnet: every packet from it is the tenant's. */
  subnet: string;
  allow: Array<{ cidr: string; port: number; protocol: "tcp" | "udp" }>;
}

export const tagOf = (id: string): string => `staxa:${id}`;
const tag = (id: string) => ["-m", "comment", "--comment", tagOf(id)];
const isV4 = (cidr: string) => /^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/.test(cidr);

/** Inserts `rule` at the top of `chain` unless an identical rule is already there. */
const insertOnce = (chain: string, rule: string[], table?: "nat" | "raw"): Step => {
  const t = table ? ["-t", table] : [];
  return { argv: [...t, "-I", chain, "1", ...rule], unless: [...t, "-C", chain, ...rule] };
};

/** Creates our chains and hooks them in once; safe to run on every start (iptables state dies with a reboot). */
export function setupSteps(): Step[] {
  const exists = "Chain already exists";
  return [
    { argv: ["-N", CHAIN.inbound], tolerate: exists },
    { argv: ["-N", CHAIN.egress], tolerate: exists },
    { argv: ["-t", "nat", "-N", CHAIN.dnat], tolerate: exists },
    { argv: ["-N", CHAIN.host], tolerate: exists },
    insertOnce("DOCKER-USER", ["-j", CHAIN.egress]),
    insertOnce("DOCKER-USER", ["-j", CHAIN.inbound]),
    // First in DOCKER-USER: no forwarded packet reaches the metadata service, before any ACCEPT of ours.
    insertOnce("DOCKER-USER", ["-d", `${METADATA_IP}/32`, ...tag("metadata"), "-j", "DROP"]),
    insertOnce("PREROUTING", ["-m", "addrtype", "--dst-type", "LOCAL", "-j", CHAIN.dnat], "nat"),
    // The host's own connections to an inbound port (its connection_string, from the server itself) never pass
    // PREROUTING: locally made packets take nat OUTPUT. Docker's published ports work from the host the same way.
    insertOnce("OUTPUT", ["-m", "addrtype", "--dst-type", "LOCAL", "-j", CHAIN.dnat], "nat"),
    // One to 127.0.0.1 leaves, after the DNAT, through the tenant's bridge with a loopback source: routable only
    // with route_localnet on that bridge (LOCALNET_SYSCTL), and given the bridge's own address on the way out.
    insertOnce("POSTROUTING", [...LOOPBACK_DNAT, "-j", "MASQUERADE"], "nat"),
    // route_localnet also lets the kernel route packets TO 127/8 that arrive on that bridge (CVE-2020-8558 in
    // kube-proxy): whatever arrives for 127/8 on any interface but lo is dropped before routing, as without it.
    insertOnce("PREROUTING", ["!", "-i", "lo", "-d", "127.0.0.0/8", "-j", "DROP"], "raw"),
    // DOCKER-USER sees only forwarded traffic; what a container sends to the host's own ports passes INPUT.
    ...BRIDGES.map((br) => insertOnce("INPUT", ["-i", br, "-j", CHAIN.host])),
    // Replies to connections the host opened (Caddy -> container) are never the guard's business.
    insertOnce(CHAIN.host, ["-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "RETURN"]),
  ];
}

/**
 * Closes one host TCP port (the API, Caddy's admin API) to new connections from the Docker bridges.
 * Tagged per port, so two appliances sharing a host (tests) never undo each other's guard.
 */
export function hostGuardSteps(port: number): Step[] {
  const rule = [
    "-p",
    "tcp",
    "--dport",
    String(port),
    "-m",
    "conntrack",
    "--ctstate",
    "NEW",
    ...tag(hostGuardId(port)),
    "-j",
    "DROP",
  ];
  return [{ argv: ["-A", CHAIN.host, ...rule], unless: ["-C", CHAIN.host, ...rule] }];
}
export const hostGuardId = (port: number): string => `host-${port}`;

/**
 * An inbound port: DNAT host port -> container, then in DOCKER-USER accept the allowed sources and
 * drop every other connection that was DNATed from that host port (Docker's own chains would not
 * accept an unpublished port anyway; the explicit DROP keeps it so if they change).
 */
export function inboundSteps(r: InboundRule): Step[] {
  const p = ["-p", r.protocol];
  const forwarded = [
    "-d",
    r.targetIp,
    ...p,
    "--dport",
    String(r.targetPort),
    "-m",
    "conntrack",
    "--ctstate",
    "DNAT",
    "--ctorigdstport",
    String(r.hostPort),
  ];
  return [
    ...r.sourceCidrs
      .filter(isV4)
      .map((cidr) => ({ argv: ["-A", CHAIN.inbound, "-s", cidr, ...forwarded, ...tag(r.id), "-j", "ACCEPT"] })),
    { argv: ["-A", CHAIN.inbound, ...forwarded, ...tag(r.id), "-j", "DROP"] },
    {
      argv: [
        "-t",
        "nat",
        "-A",
        CHAIN.dnat,
        ...p,
        "--dport",
        String(r.hostPort),
        ...tag(r.id),
        "-j",
        "DNAT",
        "--to-destination",
        `${r.targetIp}:${r.targetPort}`,
      ],
    },
  ];
}

/**
 * Restricted egress for one tenant subnet: its own network, replies, DNS and the allowed
 * destinations go on (RETURN to Docker's chains); everything else from the subnet is dropped.
 */
export function egressSteps(e: EgressPolicy): Step[] {
  const from = ["-A", CHAIN.egress, "-s", e.subnet];
  const t = tag(e.id);
  return [
    { argv: [...from, "-d", e.subnet, ...t, "-j", "RETURN"] },
    { argv: [...from, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", ...t, "-j", "RETURN"] },
    // Docker's embedded DNS forwards the containers' queries from inside their namespace.
    { argv: [...from, "-p", "udp", "--dport", "53", ...t, "-j", "RETURN"] },
    { argv: [...from, "-p", "tcp", "--dport", "53", ...t, "-j", "RETURN"] },
    ...e.allow
      .filter((a) => isV4(a.cidr))
      .map((a) => ({ argv: [...from, "-d", a.cidr, "-p", a.protocol, "--dport", String(a.port), ...t, "-j", "RETURN"] })),
    { argv: [...from, ...t, "-j", "DROP"] },
  ];
}

/** A fail-closed placeholder held while a tenant's egress rules are swapped. */
export function egressHoldStep(e: EgressPolicy): Step {
  return { argv: ["-I", CHAIN.egress, "1", "-s", e.subnet, ...tag(`${e.id}:hold`), "-j", "DROP"] };
}

/** Splits one line of `iptables -S` output into arguments (double quotes group, as iptables prints them). */
export function splitRuleLine(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g))
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]!);
  return out;
}

/** The `-D` steps removing every rule tagged with exactly `id` from a `iptables [-t table] -S` listing. */
export function removalSteps(listing: string, id: string, table?: "nat"): Step[] {
  const want = tagOf(id);
  const steps: Step[] = [];
  for (const line of listing.split("\n")) {
    const args = splitRuleLine(line);
    if (args[0] !== "-A") continue;
    const i = args.indexOf("--comment");
    if (i < 0 || args[i + 1] !== want) continue;
    steps.push({ argv: [...(table ? ["-t", table] : []), "-D", ...args.slice(1)] });
  }
  return steps;
}

/** Every staxa tag present in a listing (for reconciliation: tags with no rule in the store are orphans). */
export function tagsIn(listing: string): string[] {
  const tags = new Set<string>();
  for (const line of listing.split("\n")) {
    const args = splitRuleLine(line);
    const i = args.indexOf("--comment");
    if (i >= 0 && args[i + 1]?.startsWith("staxa:")) tags.add(args[i + 1]!.slice("staxa:".length));
  }
  return [...tags];
}
