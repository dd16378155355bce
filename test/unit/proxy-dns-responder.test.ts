// The DNS responder's wire format, decoded here independently of the encoder: what Go's resolver in Caddy reads.
import { describe, expect, test } from "bun:test";
import { answer, dnsAnswerable, srvName } from "../../src/proxy/dns-responder.ts";

const TABLE: Record<string, string> = { "app.staxa.test": "172.18.0.5:3000", "v6.staxa.test": "[::1]:80" };
const lookup = (h: string) => TABLE[h];

function query(name: string, type: number, { id = 0x1234, flags = 0x0100 } = {}): Uint8Array {
  const q: number[] = [id >> 8, id & 255, flags >> 8, flags & 255, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const l of name.split(".").filter(Boolean)) q.push(l.length, ...[...l].map((c) => c.charCodeAt(0)));
  q.push(0, type >> 8, type & 255, 0, 1);
  return new Uint8Array(q);
}

function decode(msg: Uint8Array) {
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const name = (off: number): [string, number] => {
    const labels: string[] = [];
    let end = -1;
    for (;;) {
      const len = msg[off]!;
      if (len === 0) return [labels.join("."), end < 0 ? off + 1 : end];
      if ((len & 0xc0) === 0xc0) {
        if (end < 0) end = off + 2;
        off = v.getUint16(off) & 0x3fff;
        continue;
      }
      labels.push(String.fromCharCode(...msg.subarray(off + 1, off + 1 + len)));
      off += 1 + len;
    }
  };
  const [qname, qend] = name(12);
  let off = qend + 4;
  const answers: Array<{ name: string; type: number; data: unknown }> = [];
  for (let i = 0; i < v.getUint16(6); i++) {
    const [n, e] = name(off);
    const type = v.getUint16(e), rdlen = v.getUint16(e + 8), rd = e + 10;
    const data = type === 1 ? [...msg.subarray(rd, rd + 4)].join(".") : { priority: v.getUint16(rd), weight: v.getUint16(rd + 2), port: v.getUint16(rd + 4), target: name(rd + 6)[0] };
    answers.push({ name: n, type, data });
    off = rd + rdlen;
  }
  return { id: v.getUint16(0), qr: !!(msg[2]! & 0x80), aa: !!(msg[2]! & 0x04), rd: !!(msg[2]! & 1), ra: !!(msg[3]! & 0x80), rcode: msg[3]! & 15, qname, answers };
}

describe("DNS responder", () => {
  test("SRV for a routed host: its port and an ip-… target; that target's A record is the address", () => {
    const srv = decode(answer(query(srvName(7, "app.staxa.test"), 33), lookup)!);
    expect(srv).toEqual({ id: 0x1234, qr: true, aa: true, rd: true, ra: true, rcode: 0, qname: "app.staxa.test.g7.staxa.internal", answers: [
      { name: "app.staxa.test.g7.staxa.internal", type: 33, data: { priority: 0, weight: 0, port: 3000, target: "ip-172-18-0-5.staxa.internal" } },
    ] });
    const a = decode(answer(query("ip-172-18-0-5.staxa.internal.", 1), lookup)!);
    expect([a.rcode, a.answers]).toEqual([0, [{ name: "ip-172-18-0-5.staxa.internal", type: 1, data: "172.18.0.5" }]]);
  });

  test("host names are matched case-insensitively", () => {
    expect(decode(answer(query("APP.Staxa.Test.g1.staxa.internal", 33), lookup)!).answers).toHaveLength(1);
  });

  test("unknown hosts, other zones and non-IPv4 upstreams are NXDOMAIN; a known name of another type is empty", () => {
    for (const name of ["nobody.staxa.test.g1.staxa.internal", "app.staxa.test", "v6.staxa.test.g1.staxa.internal", "ip-300-1-1-1.staxa.internal", "example.com"]) {
      expect([name, decode(answer(query(name, 33), lookup)!).rcode]).toEqual([name, 3]);
    }
    const aaaa = decode(answer(query("ip-172-18-0-5.staxa.internal", 28), lookup)!);
    expect([aaaa.rcode, aaaa.answers]).toEqual([0, []]);
    const aForHost = decode(answer(query("app.staxa.test.g1.staxa.internal", 1), lookup)!);
    expect([aForHost.rcode, aForHost.answers]).toEqual([0, []]);
  });

  test("malformed messages and responses are dropped; other opcodes are NOTIMP", () => {
    expect(answer(new Uint8Array(5), lookup)).toBeUndefined();
    expect(answer(query("app.staxa.test.g1.staxa.internal", 33, { flags: 0x8100 }), lookup)).toBeUndefined();
    const truncated = query("app.staxa.test.g1.staxa.internal", 33).subarray(0, 20);
    expect(answer(truncated, lookup)).toBeUndefined();
    const pointerLoop = new Uint8Array([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 33, 0, 1]);
    expect(answer(pointerLoop, lookup)).toBeUndefined();
    expect(decode(answer(query("app.staxa.test.g1.staxa.internal", 33, { flags: 0x2100 }), lookup)!).rcode).toBe(4);
  });

  test("only IPv4 upstreams can be answered", () => {
    expect([dnsAnswerable("172.18.0.5:3000"), dnsAnswerable("[::1]:80"), dnsAnswerable("app:80"), dnsAnswerable("300.1.1.1:80")]).toEqual([true, false, false, false]);
  });
});
