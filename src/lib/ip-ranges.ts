// Classifies IP addresses for the SSRF guard: public, private (allowed in labs), or always refused.
import { isIPv4, isIPv6 } from "node:net";

/** "public": reachable on the internet; "private": loopback/RFC 1918/ULA/CGNAT (a setting may allow it);
 *  "blocked": link-local (cloud metadata), unspecified, multicast, reserved — never a valid target. */
export type AddressClass = "public" | "private" | "blocked";

const V4: Array<[string, number, AddressClass, string]> = [
  ["0.0.0.0", 8, "blocked", "unspecified"],
  ["10.0.0.0", 8, "private", "private"],
  ["100.64.0.0", 10, "private", "carrier-grade NAT"],
  ["127.0.0.0", 8, "private", "loopback"],
  ["169.254.0.0", 16, "blocked", "link-local"],
  ["172.16.0.0", 12, "private", "private"],
  ["192.0.0.0", 24, "blocked", "reserved"],
  ["192.0.2.0", 24, "blocked", "documentation"],
  ["192.168.0.0", 16, "private", "private"],
  ["198.18.0.0", 15, "private", "benchmarking"],
  ["198.51.100.0", 24, "blocked", "documentation"],
  ["203.0.113.0", 24, "blocked", "documentation"],
  ["224.0.0.0", 4, "blocked", "multicast"],
  ["240.0.0.0", 4, "blocked", "reserved"],
];

function v4ToInt(ip: string): number {
  return ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

/** Class and reason of an IPv4 address in dotted form. */
export function classifyV4(ip: string): { cls: AddressClass; reason: string } {
  const n = v4ToInt(ip);
  for (const [base, bits, cls, reason] of V4) {
    const size = 2 ** (32 - bits);
    const start = v4ToInt(base);
    if (n >= start && n < start + size) return { cls, reason };
  }
  return { cls: "public", reason: "public" };
}

/** 16 bytes of an IPv6 address (with an optional embedded IPv4 tail); undefined when malformed. */
export function v6Bytes(ip: string): number[] | undefined {
  let s = ip.replace(/%.*$/, "").toLowerCase();
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    if (!isIPv4(v4[1])) return undefined;
    tail.push(...v4[1].split(".").map(Number));
    s = s.slice(0, -v4[1].length) + "0:0";
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === "" ? [] : part.split(":"));
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  const bytes: number[] = [];
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
    const n = parseInt(g, 16);
    bytes.push(n >> 8, n & 255);
  }
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** Class and reason of an IPv6 address; IPv4 embedded forms (mapped, compatible, NAT64, 6to4) are judged as IPv4. */
export function classifyV6(ip: string): { cls: AddressClass; reason: string } {
  const b = v6Bytes(ip);
  if (!b) return { cls: "blocked", reason: "malformed" };
  const zeroUpTo = (k: number) => b.slice(0, k).every((x) => x === 0);
  const v4 = (from: number) => b.slice(from, from + 4).join(".");
  if (zeroUpTo(15) && b[15] === 0) return { cls: "blocked", reason: "unspecified" };
  if (zeroUpTo(15) && b[15] === 1) return { cls: "private", reason: "loopback" };
  if (zeroUpTo(10) && b[10] === 0xff && b[11] === 0xff) return classifyV4(v4(12)); // ::ffff:a.b.c.d
  if (zeroUpTo(12)) return classifyV4(v4(12)); // deprecated ::a.b.c.d
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b) return classifyV4(v4(12)); // NAT64 64:ff9b::/96
  if (b[0] === 0x20 && b[1] === 0x02) return classifyV4(v4(2)); // 6to4 2002::/16
  if ((b[0] & 0xfe) === 0xfc) return { cls: "private", reason: "unique local" };
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0x80) return { cls: "blocked", reason: "link-local" };
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0xc0) return { cls: "blocked", reason: "site-local" };
  if (b[0] === 0xff) return { cls: "blocked", reason: "multicast" };
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return { cls: "blocked", reason: "documentation" };
  return { cls: "public", reason: "public" };
}

/** Class of any IP literal; anything that is not an IP is "blocked". */
export function classifyIp(ip: string): { cls: AddressClass; reason: string } {
  if (isIPv4(ip)) return classifyV4(ip);
  if (isIPv6(ip)) return classifyV6(ip);
  return { cls: "blocked", reason: "not an IP address" };
}

/** True for addresses that reach this machine itself (loopback or unspecified, any form). */
export function isLocalHostAddress(ip: string): boolean {
  const { reason } = classifyIp(ip);
  return reason === "loopback" || reason === "unspecified";
}
