// IPv4 CIDR arithmetic on 32-bit integers: parsing, formatting, overlap, and the blocks a pool splits into.

export interface Cidr {
  /** First address as an unsigned 32-bit integer. */
  start: number;
  prefix: number;
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** `a.b.c.d/n` with the host bits zero, else undefined (so `10.0.0.1/8` is refused, not silently widened). */
export function parseCidr(s: string): Cidr | undefined {
  const m = V4.exec(s.trim());
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const start = octets.reduce((n, o) => n * 256 + o, 0);
  if (start % size(prefix) !== 0) return undefined;
  return { start, prefix };
}

/** Number of addresses in a block of this prefix length. */
export function size(prefix: number): number {
  return 2 ** (32 - prefix);
}

/** Last address of the block. */
export function end(c: Cidr): number {
  return c.start + size(c.prefix) - 1;
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.start)}/${c.prefix}`;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.start <= end(b) && b.start <= end(a);
}

/** The block of `prefix` in `pool` at or after address `at`, aligned; undefined past the pool's end. */
export function blockAtOrAfter(pool: Cidr, prefix: number, at: number): Cidr | undefined {
  const s = size(prefix);
  const start = Math.max(pool.start, Math.ceil(at / s) * s);
  return start + s - 1 <= end(pool) ? { start, prefix } : undefined;
}

/** Docker's default local address pools: a tenant pool inside them competes with every `docker network create`. */
export const DOCKER_DEFAULT_POOLS = ["172.17.0.0/16", "172.18.0.0/15", "172.20.0.0/14", "172.24.0.0/13", "192.168.0.0/16"].map(
  (c) => parseCidr(c)!,
);
