// Validation of a network rule body, field by field (each error names its field); CIDRs to canonical form.
import { isIPv4, isIPv6 } from "node:net";
import { Invalid } from "../../lib/errors.ts";
import { v6Bytes } from "../../lib/ip-ranges.ts";
import { serviceName } from "../input.ts";

/** Widest networks a rule may name: a /0 or a /4 is "the internet", not an allow-list. */
export const MIN_PREFIX = { v4: 8, v6: 32 } as const;
/** Most CIDRs in one rule (source_cidrs or destination_cidrs). */
export const MAX_CIDRS = 20;
export const MAX_TTL_HOURS = 8760;

export interface RuleDraft {
  direction: "inbound" | "outbound";
  protocol: "tcp" | "udp";
  targetService: string | null;
  targetPort: number | null;
  sourceCidrs: string[];
  destinationCidrs: string[];
  destinationPort: number | null;
  ttlHours: number | null;
  description: string | null;
}

/** One CIDR (or a bare address, meaning /32 or /128) in canonical form; host bits must be zero. */
export function parseCidr(raw: unknown, field: string): string {
  if (typeof raw !== "string" || raw.length > 64)
    throw new Invalid(field, `${field} entries must be CIDR strings such as 203.0.113.0/24`);
  const [addr, bits, extra] = raw.trim().split("/");
  const v4 = isIPv4(addr ?? "");
  if (extra !== undefined || (!v4 && !isIPv6(addr ?? "")) || addr!.includes("%"))
    throw new Invalid(field, `"${raw}" is not a valid CIDR`, { value: raw });
  const max = v4 ? 32 : 128;
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) throw new Invalid(field, `"${raw}" is not a valid CIDR`, { value: raw });
  const prefix = bits === undefined ? max : Number(bits);
  if (prefix > max) throw new Invalid(field, `"${raw}" has a prefix longer than /${max}`, { value: raw });
  const min = v4 ? MIN_PREFIX.v4 : MIN_PREFIX.v6;
  if (prefix < min)
    throw new Invalid(field, `"${raw}" is too wide: the shortest prefix allowed is /${min} for ${v4 ? "IPv4" : "IPv6"}`, {
      value: raw,
      min_prefix: min,
    });
  const bytes = v4 ? addr!.split(".").map(Number) : v6Bytes(addr!)!;
  const masked = bytes.map((b, i) => b & (0xff << Math.max(0, 8 - Math.max(0, prefix - 8 * i))) & 0xff);
  if (masked.some((b, i) => b !== bytes[i])) {
    throw new Invalid(field, `"${raw}" has host bits set; did you mean ${format(masked, v4)}/${prefix}?`, { value: raw });
  }
  return `${format(bytes, v4)}/${prefix}`;
}

function format(bytes: number[], v4: boolean): string {
  if (v4) return bytes.join(".");
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16));
  // Compress the longest run of zero groups (RFC 5952), so equal networks compare equal.
  let best = [-1, 0];
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > best[1]! && j - i > 1) best = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (best[0]! < 0) return groups.join(":");
  return `${groups.slice(0, best[0]).join(":")}::${groups.slice(best[0]! + best[1]!).join(":")}`;
}

function cidrList(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.length === 0) throw new Invalid(field, `${field} must be a non-empty array of CIDR strings`);
  if (v.length > MAX_CIDRS)
    throw new Invalid(field, `${field} holds ${v.length} entries; at most ${MAX_CIDRS} are allowed`, { max: MAX_CIDRS });
  return [...new Set(v.map((c) => parseCidr(c, field)))];
}

function port(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 65535)
    throw new Invalid(field, `${field} must be an integer between 1 and 65535`);
  return v;
}

function required(b: Record<string, unknown>, field: string, why: string): unknown {
  if (b[field] === undefined || b[field] === null) throw new Invalid(field, `${field} is required for ${why} rules`);
  return b[field];
}

const KNOWN = new Set([
  "direction",
  "protocol",
  "target_service",
  "target_port",
  "source_cidrs",
  "destination_cidrs",
  "destination_port",
  "ttl_hours",
  "description",
]);

/** The whole body checked before anything is stored or applied. */
export function parseRule(b: Record<string, unknown>): RuleDraft {
  for (const k of Object.keys(b)) if (!KNOWN.has(k)) throw new Invalid(k, `Unknown field "${k}"`);
  if (b.direction !== "inbound" && b.direction !== "outbound")
    throw new Invalid("direction", 'direction must be "inbound" or "outbound"');
  if (b.protocol !== "tcp" && b.protocol !== "udp") throw new Invalid("protocol", 'protocol must be "tcp" or "udp"');
  const inbound = b.direction === "inbound";
  const wrong = inbound ? ["destination_cidrs", "destination_port"] : ["target_service", "target_port", "source_cidrs"];
  for (const k of wrong)
    if (b[k] !== undefined && b[k] !== null) throw new Invalid(k, `${k} does not apply to ${b.direction} rules`);
  let ttlHours: number | null = null;
  if (b.ttl_hours !== undefined && b.ttl_hours !== null) {
    const t = b.ttl_hours;
    if (typeof t !== "number" || !Number.isInteger(t) || t < 1 || t > MAX_TTL_HOURS)
      throw new Invalid("ttl_hours", `ttl_hours must be an integer between 1 and ${MAX_TTL_HOURS}`);
    ttlHours = t;
  }
  let description: string | null = null;
  if (b.description !== undefined && b.description !== null) {
    if (typeof b.description !== "string" || b.description.length > 255 || /[\u0000-\u001f]/.test(b.description)) {
      throw new Invalid("description", "description must be a single-line string of at most 255 characters");
    }
    description = b.description.trim() || null;
  }
  const base = { direction: b.direction, protocol: b.protocol, ttlHours, description } as const;
  if (inbound) {
    return {
      ...base,
      destinationCidrs: [],
      destinationPort: null,
      targetService: serviceName(required(b, "target_service", "inbound"), "target_service"),
      targetPort: port(required(b, "target_port", "inbound"), "target_port"),
      sourceCidrs: cidrList(required(b, "source_cidrs", "inbound"), "source_cidrs"),
    };
  }
  return {
    ...base,
    targetService: null,
    targetPort: null,
    sourceCidrs: [],
    destinationCidrs: cidrList(required(b, "destination_cidrs", "outbound"), "destination_cidrs"),
    destinationPort: port(required(b, "destination_port", "outbound"), "destination_port"),
  };
}
