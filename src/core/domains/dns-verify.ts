// DNS verification of a custom domain: ownership (a TXT token) and pointing (A/AAAA to server_ip, or a CNAME to the tenant).
//
// Both are required: pointing alone proves nothing when a previous owner's record still points
// here, so the TXT token (random, generated when the domain is added) proves the caller controls
// the zone today. The resolver is STAXA_DNS_SERVERS when set, else the system's.
import { Resolver } from "node:dns/promises";
import type { Config } from "../../config.ts";
import type { Ctx } from "../context.ts";

/** The four lookups verification needs; each answers [] for "no such record". Tests inject their own. */
export interface DnsLookup {
  a(name: string): Promise<string[]>;
  aaaa(name: string): Promise<string[]>;
  cname(name: string): Promise<string[]>;
  /** Each TXT record's chunks joined into one string. */
  txt(name: string): Promise<string[]>;
}

/** A context that may carry an injected resolver (unit tests); the real one is built from config. */
export type DnsCtx = Ctx & { dns?: DnsLookup };

/** Name of the ownership record. */
export const challengeName = (domain: string) => `_staxa-challenge.${domain}`;

const ABSENT = new Set(["ENODATA", "ENOTFOUND", "NXDOMAIN", "ENONAME"]);

/** A Resolver over config.dnsServers. A fresh one per check: Bun's resolver keeps negative answers. */
export function systemLookup(config: Config): DnsLookup {
  const run = async <T>(fn: (r: Resolver) => Promise<T[]>): Promise<T[]> => {
    const r = new Resolver({ timeout: 3000, tries: 2 });
    if (config.dnsServers.length) r.setServers(config.dnsServers);
    try {
      return await fn(r);
    } catch (e) {
      if (ABSENT.has((e as { code?: string }).code ?? "")) return [];
      throw new Error(`DNS lookup failed: ${(e as { code?: string }).code ?? (e as Error).message}`);
    }
  };
  return {
    a: (n) => run((r) => r.resolve4(n)),
    aaaa: (n) => run((r) => r.resolve6(n)),
    cname: (n) => run((r) => r.resolveCname(n)),
    txt: (n) => run((r) => r.resolveTxt(n)).then((recs) => recs.map((chunks) => chunks.join(""))),
  };
}

export const lookupFor = (ctx: DnsCtx): DnsLookup => ctx.dns ?? systemLookup(ctx.config);

export interface RecordCheck {
  type: string;
  name: string;
  expected: string;
  found: string[];
  ok: boolean;
  error?: string;
}

export interface DnsVerdict {
  ok: boolean;
  ownership: RecordCheck;
  pointing: RecordCheck;
}

const norm = (h: string) => h.toLowerCase().replace(/\.$/, "");

/** Same address, whatever the IPv6 spelling. */
function sameIp(a: string, b: string): boolean {
  if (!a.includes(":") || !b.includes(":")) return a === b;
  const expand = (ip: string) => {
    const [head, tail = ""] = ip.toLowerCase().split("::");
    const h = head ? head.split(":") : [];
    const t = tail ? tail.split(":") : [];
    const mid = ip.includes("::") ? Array(8 - h.length - t.length).fill("0") : [];
    return [...h, ...mid, ...t].map((g) => g.replace(/^0+(?=.)/, "")).join(":");
  };
  return expand(a) === expand(b);
}

async function attempt(fn: () => Promise<string[]>): Promise<{ found: string[]; error?: string }> {
  try {
    return { found: await fn() };
  } catch (e) {
    return { found: [], error: (e as Error).message };
  }
}

/** What DNS says about `domain` against what it must say; never throws (a failed lookup is a finding). */
export async function checkDns(
  dns: DnsLookup,
  o: { domain: string; token: string; serverIp: string; tenantHost: string },
): Promise<DnsVerdict> {
  const txtName = challengeName(o.domain);
  const [txt, cname, addrs] = await Promise.all([
    attempt(() => dns.txt(txtName)),
    attempt(() => dns.cname(o.domain)),
    attempt(async () => [...(await dns.a(o.domain)), ...(await dns.aaaa(o.domain))]),
  ]);
  const ownership: RecordCheck = {
    type: "TXT",
    name: txtName,
    expected: o.token,
    found: txt.found,
    ok: txt.found.some((v) => v.trim() === o.token),
    ...(txt.error ? { error: txt.error } : {}),
  };
  const viaCname = cname.found.some((c) => norm(c) === norm(o.tenantHost));
  const viaAddr = addrs.found.some((ip) => sameIp(ip, o.serverIp));
  const addrType = o.serverIp.includes(":") ? "AAAA" : "A";
  const pointing: RecordCheck = cname.found.length
    ? { type: "CNAME", name: o.domain, expected: o.tenantHost, found: cname.found.map(norm), ok: viaCname || viaAddr }
    : {
        type: addrType,
        name: o.domain,
        expected: o.serverIp,
        found: addrs.found,
        ok: viaAddr,
        ...(addrs.error ? { error: addrs.error } : {}),
      };
  return { ok: ownership.ok && pointing.ok, ownership, pointing };
}
