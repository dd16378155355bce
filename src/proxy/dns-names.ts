// The names Caddy looks up and the resolver answers, all under ZONE and rooted (so no search domain is ever appended):
//   <host>.route.staxa.internal.  SRV -> the host's upstreams (the resolver's 404 page for an unknown host)
//   <host>.http.staxa.internal.   SRV -> the same, except a TLS host gets the resolver's redirect to HTTPS (plain HTTP)
//   ip-a-b-c-d.staxa.internal.    A   -> a.b.c.d (an SRV target: Go's resolver refuses all-numeric target names)

export const ZONE = "staxa.internal";
export type LookupKind = "route" | "http";

/** The name Caddy's dynamic upstreams look up for a request (Caddy's host placeholder in it). */
export const lookupName = (kind: LookupKind, host = "{http.request.host}") => `${host}.${kind}.${ZONE}.`;

/** The SRV target naming an IPv4 address. */
export const ipTarget = (ip: string) => `ip-${ip.replaceAll(".", "-")}.${ZONE}`;

export type ParsedName = { type: "lookup"; kind: LookupKind; host: string } | { type: "ip"; ip: string } | undefined;

const LOOKUP = /^(.+)\.(route|http)\.staxa\.internal\.?$/;
const IP = /^ip-(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})\.staxa\.internal\.?$/;

/** What a queried name asks for, or undefined for a name outside ZONE (NXDOMAIN). */
export function parseName(name: string): ParsedName {
  const n = name.toLowerCase();
  const ip = IP.exec(n);
  if (ip) return ip.slice(1).every((o) => Number(o) <= 255) ? { type: "ip", ip: ip.slice(1).map(Number).join(".") } : undefined;
  const l = LOOKUP.exec(n);
  return l ? { type: "lookup", kind: l[2] as LookupKind, host: l[1]! } : undefined;
}
