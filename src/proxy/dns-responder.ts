// A loopback DNS responder that answers Caddy's upstream lookups from the appliance's routing table in memory.
//
// Why: every Caddy admin change rebuilds Caddy's whole config, so a routing table kept in Caddy's config
// makes each change cost O(tenants). Caddy's `srv` dynamic upstreams ask this responder instead, so a new
// route is served the moment it is in memory, whatever the number of tenants (docs/routing.md).
//
// Names (all under ZONE, rooted, so resolvers never append search domains):
//   <host>.g<gen>.staxa.internal.  SRV -> 0 0 <port> ip-a-b-c-d.staxa.internal.   (the route's upstream)
//   ip-a-b-c-d.staxa.internal.     A   -> a.b.c.d                                  (the SRV target)
// An IP cannot be an SRV target (Go's resolver refuses all-numeric names), hence the ip-… names.
// `gen` is part of the name only so that Caddy's lookup cache can be invalidated by changing it.

export const ZONE = "staxa.internal";
const TYPE_A = 1;
const TYPE_SRV = 33;
const CLASS_IN = 1;
const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;

const HOST_NAME = /^(.+)\.g\d{1,20}\.staxa\.internal$/;
const IP_NAME = /^ip-(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})\.staxa\.internal$/;
const IPV4_UPSTREAM = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d{1,5})$/;

/** The upstream of a host, as `a.b.c.d:port`, or undefined when no route serves it. */
export type Lookup = (host: string) => string | undefined;

/** True when an upstream can be answered over DNS (an IPv4 address and port: what containers have). */
export function dnsAnswerable(upstream: string): boolean {
  const m = IPV4_UPSTREAM.exec(upstream);
  return !!m && m.slice(1, 5).every((o) => Number(o) <= 255);
}

/** The SRV name Caddy looks up for a request's host (Caddy placeholder in, gen baked in). */
export function srvName(gen: number, host = "{http.request.host}"): string {
  return `${host}.g${gen}.${ZONE}.`;
}

/** Decodes a (query) name at `off`; compression pointers are refused, as no query needs them. */
function readName(msg: Uint8Array, off: number): { name: string; end: number } | undefined {
  const labels: string[] = [];
  for (let guard = 0; guard < 128; guard++) {
    if (off >= msg.length) return undefined;
    const len = msg[off]!;
    if (len === 0) return { name: labels.join(".").toLowerCase(), end: off + 1 };
    if (len > 63 || off + 1 + len > msg.length) return undefined;
    labels.push(String.fromCharCode(...msg.subarray(off + 1, off + 1 + len)));
    off += 1 + len;
  }
  return undefined;
}

function encodeName(name: string): number[] {
  const out: number[] = [];
  for (const label of name.split(".")) {
    if (!label) continue;
    out.push(label.length);
    for (let i = 0; i < label.length; i++) out.push(label.charCodeAt(i));
  }
  out.push(0);
  return out;
}

const u16 = (n: number) => [(n >> 8) & 255, n & 255];

/** One resource record answering the question at offset 12 (name as a compression pointer to it). */
function record(type: number, rdata: number[]): number[] {
  return [0xc0, 12, ...u16(type), ...u16(CLASS_IN), 0, 0, 0, 0 /* TTL 0: Caddy keeps its own cache */, ...u16(rdata.length), ...rdata];
}

/** The answer to one DNS query message, or undefined for what is not a query at all (dropped). */
export function answer(query: Uint8Array, lookup: Lookup): Uint8Array | undefined {
  if (query.length < 12 || query[2]! & 0x80) return undefined; // too short, or a response
  const opcode = (query[2]! >> 3) & 15;
  const qdcount = (query[4]! << 8) | query[5]!;
  const q = qdcount === 1 ? readName(query, 12) : undefined;
  if (!q || q.end + 4 > query.length) return undefined;
  const qtype = (query[q.end]! << 8) | query[q.end + 1]!;
  const question = Array.from(query.subarray(12, q.end + 4));

  let rcode = 0;
  const answers: number[][] = [];
  const host = HOST_NAME.exec(q.name);
  const ip = IP_NAME.exec(q.name);
  if (opcode !== 0) rcode = RCODE_NOTIMP;
  else if (host) {
    const upstream = lookup(host[1]!);
    const m = upstream ? IPV4_UPSTREAM.exec(upstream) : null;
    if (!m) rcode = RCODE_NXDOMAIN;
    else if (qtype === TYPE_SRV) answers.push(record(TYPE_SRV, [0, 0, 0, 0, ...u16(Number(m[5])), ...encodeName(`ip-${m[1]}-${m[2]}-${m[3]}-${m[4]}.${ZONE}`)]));
  } else if (ip && ip.slice(1).every((o) => Number(o) <= 255)) {
    if (qtype === TYPE_A) answers.push(record(TYPE_A, ip.slice(1).map(Number)));
  } else rcode = RCODE_NXDOMAIN;

  // QR, AA, RD copied; RA (Go's resolver treats a non-authoritative answer without RA as a lame referral).
  const header = [query[0]!, query[1]!, 0x84 | (query[2]! & 1), 0x80 | rcode, 0, 1, ...u16(answers.length), 0, 0, 0, 0];
  return new Uint8Array([...header, ...question, ...answers.flat()]);
}

export interface DnsResponder {
  readonly port: number;
  close(): void;
}

/** Serves `lookup` over UDP on 127.0.0.1 (port 0: any free one). It never keeps the process alive. */
export async function startDnsResponder(lookup: Lookup, port = 0): Promise<DnsResponder> {
  const socket = await Bun.udpSocket({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(sock, buf, rport, raddr) {
        const reply = answer(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), lookup);
        if (reply) sock.send(reply, rport, raddr);
      },
    },
  });
  socket.unref();
  return { port: socket.port, close: () => socket.close() };
}
