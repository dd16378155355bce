// The resolver's DNS answers, decoded with dns-packet: what Go's resolver in Caddy reads.
import { describe, expect, test } from "bun:test";
import * as dns from "dns-packet";
import { answer, type Resolve } from "../../../src/proxy/dns-responder.ts";
import { lookupName, parseName } from "../../../src/proxy/dns-names.ts";

const TABLE: Record<string, string[]> = {
  "app.staxa.test": ["172.18.0.5:3000"],
  "two.staxa.test": ["10.0.0.2:80", "10.0.0.3:81"],
};
const asked: string[] = [];
const resolve: Resolve = (kind, host) => {
  asked.push(`${kind} ${host}`);
  return TABLE[host] ?? ["127.0.0.1:9999"];
};

const query = (name: string, type: dns.RecordType, extra: Partial<dns.Packet> = {}) =>
  dns.encode({ type: "query", id: 0x1234, flags: dns.RECURSION_DESIRED, questions: [{ type, name, class: "IN" }], ...extra });
type Decoded = dns.DecodedPacket & { rcode: string; flag_aa: boolean; flag_ra: boolean; flag_rd: boolean };
const decode = (b: Buffer) => dns.decode(b) as Decoded;
const ask = (name: string, type: dns.RecordType = "SRV", extra: Partial<dns.Packet> = {}) =>
  decode(answer(query(name, type, extra), resolve)!);
const srv = (p: dns.DecodedPacket) =>
  (p.answers ?? [])
    .map((a) => (a as dns.SrvAnswer).data)
    .map((d) => `${d.target}:${d.port}`)
    .sort();

describe("names", () => {
  test.each([
    ["app.staxa.test.route.staxa.internal.", { type: "lookup", kind: "route", host: "app.staxa.test" }],
    ["APP.Staxa.Test.http.staxa.internal", { type: "lookup", kind: "http", host: "app.staxa.test" }],
    ["ip-10-0-0-5.staxa.internal", { type: "ip", ip: "10.0.0.5" }],
    ["ip-300-0-0-5.staxa.internal", undefined],
    ["app.staxa.test", undefined],
    ["app.other.staxa.internal", undefined],
  ])("%s", (name, want) => expect(parseName(name)).toEqual(want as never));
  test("Caddy looks up the request's host under the kind's name", () =>
    expect(lookupName("route")).toBe("{http.request.host}.route.staxa.internal."));
});

describe("answers", () => {
  test("SRV for a routed host: its port and an ip-… target, authoritative, RA set, id and question echoed", () => {
    const p = ask("app.staxa.test.route.staxa.internal");
    expect([p.type, p.id, p.flag_aa, p.flag_ra, p.flag_rd, p.rcode, p.questions]).toEqual([
      "response",
      0x1234,
      true,
      true,
      true,
      "NOERROR",
      [{ name: "app.staxa.test.route.staxa.internal", type: "SRV", class: "IN" }],
    ]);
    expect(srv(p)).toEqual(["ip-172-18-0-5.staxa.internal:3000"]);
    expect(asked.at(-1)).toBe("route app.staxa.test");
  });

  test("several upstreams (replicas) are several SRV records", () => {
    expect(srv(ask("two.staxa.test.http.staxa.internal"))).toEqual([
      "ip-10-0-0-2.staxa.internal:80",
      "ip-10-0-0-3.staxa.internal:81",
    ]);
    expect(asked.at(-1)).toBe("http two.staxa.test");
  });

  test("an SRV target's A record is its address; AAAA and other types are empty answers", () => {
    const a = ask("ip-172-18-0-5.staxa.internal", "A");
    expect([a.rcode, a.answers?.map((x) => (x as dns.StringAnswer).data)]).toEqual(["NOERROR", ["172.18.0.5"]]);
    expect(ask("ip-172-18-0-5.staxa.internal", "AAAA").answers).toEqual([]);
    expect(ask("app.staxa.test.route.staxa.internal", "A").answers).toEqual([]);
  });

  test("names outside the zone are NXDOMAIN", () => {
    for (const name of ["example.com", "app.staxa.test", "ip-300-1-1-1.staxa.internal"])
      expect([name, ask(name).rcode]).toEqual([name, "NXDOMAIN"]);
  });

  test("an answer never outgrows what the client can read: extra upstreams are left out", () => {
    TABLE["many.staxa.test"] = Array.from({ length: 40 }, (_, i) => `10.1.${i}.1:8080`);
    const plain = answer(query("many.staxa.test.route.staxa.internal", "SRV"), resolve)!;
    expect(plain.length).toBeLessThanOrEqual(512);
    expect(srv(dns.decode(plain)).length).toBeGreaterThan(3);
    const edns = answer(
      query("many.staxa.test.route.staxa.internal", "SRV", {
        additionals: [{ type: "OPT", name: ".", udpPayloadSize: 4096 } as never],
      }),
      resolve,
    )!;
    expect(srv(dns.decode(edns)).length).toBe(40);
  });

  test("malformed messages and responses are dropped; other opcodes are NOTIMP", () => {
    expect(answer(Buffer.alloc(5), resolve)).toBeUndefined();
    expect(answer(query("app.staxa.test.route.staxa.internal", "SRV").subarray(0, 20), resolve)).toBeUndefined();
    expect(
      answer(
        dns.encode({ type: "response", id: 1, questions: [{ type: "SRV", name: "app.staxa.test.route.staxa.internal" }] }),
        resolve,
      ),
    ).toBeUndefined();
    expect(answer(Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 33, 0, 1]), resolve)).toBeUndefined();
    const notify = query("app.staxa.test.route.staxa.internal", "SRV");
    notify[2] = (notify[2]! & 0x87) | (4 << 3); // opcode NOTIFY
    expect(decode(answer(notify, resolve)!).rcode).toBe("NOTIMP");
  });
});
