// A loopback DNS responder for Caddy's upstream lookups (names in dns-names.ts), answered from memory by `resolve`.
// The wire format is dns-packet's; this file only decides what a question is answered with.
import * as dns from "dns-packet";
import { ipTarget, parseName, type LookupKind } from "./dns-names.ts";

/** The dial addresses (`a.b.c.d:port`) serving a host, for one kind of lookup; never empty (an unknown host has the resolver's 404 page). */
export type Resolve = (kind: LookupKind, host: string) => string[];

const NXDOMAIN = 3;
const NOTIMP = 4;
/** What a DNS client reads without EDNS; a larger answer would be cut, so extra upstreams are left out instead. */
const PLAIN_UDP_LIMIT = 512;

function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/** The reply to one query, or undefined for what is not a single-question query (dropped, as a resolver would). */
export function answer(query: Buffer, resolve: Resolve): Buffer | undefined {
  let q: dns.DecodedPacket;
  try {
    q = dns.decode(query);
  } catch {
    return undefined;
  }
  const question = q.questions?.[0];
  if (q.type !== "query" || q.questions?.length !== 1 || !question) return undefined;
  const reply = (rcode: number, answers: dns.Answer[] = []) =>
    // AA and RA: Go's resolver takes a non-authoritative answer without RA for a lame referral.
    dns.encode({
      type: "response",
      id: q.id,
      flags: dns.AUTHORITATIVE_ANSWER | dns.RECURSION_AVAILABLE | ((q.flags ?? 0) & dns.RECURSION_DESIRED) | rcode,
      questions: [question],
      answers,
    });
  if ((q as { opcode?: string }).opcode !== "QUERY") return reply(NOTIMP);

  const name = parseName(question.name);
  if (!name) return reply(NXDOMAIN);
  // TTL 0 everywhere: Caddy keeps its own cache, for its `refresh`.
  if (name.type === "ip")
    return reply(0, question.type === "A" ? [{ type: "A", name: question.name, ttl: 0, data: name.ip }] : []);
  if (question.type !== "SRV") return reply(0);

  const limit = Math.max(
    PLAIN_UDP_LIMIT,
    ...(q.additionals ?? []).map((a) => (a.type === "OPT" ? ((a as { udpPayloadSize?: number }).udpPayloadSize ?? 0) : 0)),
  );
  const records: dns.Answer[] = [];
  for (const up of shuffle(resolve(name.kind, name.host))) {
    const i = up.lastIndexOf(":");
    records.push({
      type: "SRV",
      name: question.name,
      ttl: 0,
      data: { priority: 0, weight: 1, port: Number(up.slice(i + 1)), target: ipTarget(up.slice(0, i)) },
    });
    if (dns.encodingLength({ questions: [question], answers: records }) > limit) {
      records.pop();
      break;
    }
  }
  return reply(0, records);
}

export interface DnsResponder {
  readonly port: number;
  close(): void;
}

/** Serves `resolve` over UDP on 127.0.0.1:`port` (0: any free one). */
export async function startDnsResponder(resolve: Resolve, port = 0): Promise<DnsResponder> {
  const socket = await Bun.udpSocket({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(sock, buf, rport, raddr) {
        const reply = answer(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), resolve);
        if (reply) sock.send(reply, rport, raddr);
      },
    },
  });
  return { port: socket.port, close: () => socket.close() };
}
