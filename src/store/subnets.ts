// Tenant subnets: blocks of the configured pool held by tenants (120_scale.sql). Every verb is a few index probes,
// whatever the number of tenants: the lowest free block, else the block after the highest one.
import type { Db } from "./db.ts";
import { blockAtOrAfter, end, formatCidr, parseCidr, size, type Cidr } from "../lib/cidr.ts";

interface BlockRow {
  start: number;
  prefix: number;
  tenant_id: string | null;
  reserved: string | null;
}

const asCidr = (r: { start: number; prefix: number }): Cidr => ({ start: r.start, prefix: r.prefix });

/** The subnet a tenant holds, as CIDR text. */
export function find(db: Db, tenantId: string): string | undefined {
  const r = db.query<BlockRow, [string]>("SELECT * FROM subnet_blocks WHERE tenant_id = ?").get(tenantId);
  return r ? formatCidr(asCidr(r)) : undefined;
}

/** A reserved range overlapping `b`, if any (a handful of rows: host routes and foreign networks). */
function reservedOver(db: Db, b: Cidr): string | undefined {
  return db
    .query<{ reason: string }, [number, number]>("SELECT reason FROM subnet_reserved WHERE lo <= ? AND hi >= ? LIMIT 1")
    .get(end(b), b.start)?.reason;
}

/**
 * The tenant's block, allocating the lowest free one of `pool` split into /`prefix` blocks when it has none.
 * Undefined when the pool is exhausted. Blocks a reserved range overlaps are recorded as skipped on the way.
 */
export function allocate(db: Db, tenantId: string, pool: Cidr, prefix: number): string | undefined {
  return db.transaction(() => {
    const held = find(db, tenantId);
    if (held) return held;
    const free = db
      .query<{ start: number }, [number, number, number]>(
        "SELECT start FROM subnet_blocks WHERE prefix = ? AND tenant_id IS NULL AND reserved IS NULL AND start BETWEEN ? AND ? ORDER BY start LIMIT 1",
      )
      .get(prefix, pool.start, end(pool) - size(prefix) + 1);
    if (free) {
      db.query("UPDATE subnet_blocks SET tenant_id = ? WHERE start = ?").run(tenantId, free.start);
      return formatCidr({ start: free.start, prefix });
    }
    const insert = db.query<unknown, [number, number, string | null, string | null]>(
      "INSERT INTO subnet_blocks (start, prefix, tenant_id, reserved) VALUES (?, ?, ?, ?)",
    );
    for (;;) {
      const top = db
        .query<BlockRow, [number]>("SELECT * FROM subnet_blocks WHERE start <= ? ORDER BY start DESC LIMIT 1")
        .get(end(pool));
      const b = blockAtOrAfter(pool, prefix, top ? top.start + size(top.prefix) : pool.start);
      if (!b) return undefined;
      const why = reservedOver(db, b);
      insert.run(b.start, prefix, why ? null : tenantId, why ?? null);
      if (!why) return formatCidr(b);
    }
  })();
}

/** Gives the block back (the tenant row going does the same through its foreign key). */
export function release(db: Db, tenantId: string): void {
  db.query("UPDATE subnet_blocks SET tenant_id = NULL WHERE tenant_id = ?").run(tenantId);
}

/** Marks a block skipped until the next start-up (Docker said another network overlaps it); its holder loses it. */
export function reserve(db: Db, cidr: string, reason: string): void {
  const c = parseCidr(cidr);
  if (!c) return;
  db.query("UPDATE subnet_blocks SET tenant_id = NULL, reserved = ? WHERE start = ?").run(reason, c.start);
}

/** Counts for error messages and logs: blocks held, skipped, and how many the pool has. */
export function usage(db: Db, pool: Cidr, prefix: number): { held: number; skipped: number; total: number } {
  const r = db
    .query<{ held: number; skipped: number }, [number, number]>(
      "SELECT COUNT(tenant_id) AS held, COUNT(reserved) AS skipped FROM subnet_blocks WHERE start BETWEEN ? AND ?",
    )
    .get(pool.start, end(pool))!;
  return { held: r.held, skipped: r.skipped, total: size(pool.prefix) / size(prefix) };
}

export interface Observed {
  /** Networks of this store's tenants, with the subnet Docker gave them. */
  ours: Array<{ tenantId: string; subnet: string }>;
  /** Every other range overlapping the pool: host routes, networks of other stores or of nobody. */
  foreign: Array<{ cidr: string; reason: string }>;
}

/**
 * Start-up: the store agrees with Docker and the host again. Skips found at the last start are cleared, ranges
 * seen now are recorded, and a tenant whose network exists holds that network's block (when it lies in the pool).
 */
export function recover(db: Db, pool: Cidr, prefix: number, seen: Observed): void {
  db.transaction(() => {
    db.exec("DELETE FROM subnet_reserved");
    db.exec("UPDATE subnet_blocks SET reserved = NULL WHERE reserved IS NOT NULL");
    for (const f of seen.foreign) {
      const c = parseCidr(f.cidr);
      if (!c || c.start > end(pool) || end(c) < pool.start) continue;
      db.query("INSERT INTO subnet_reserved (lo, hi, reason) VALUES (?, ?, ?)").run(c.start, end(c), f.reason);
      // Free blocks inside it are skipped; a held one keeps its tenant (its network, if any, exists already).
      db.query(
        "UPDATE subnet_blocks SET reserved = ? WHERE tenant_id IS NULL AND start <= ? AND start + (1 << (32 - prefix)) - 1 >= ?",
      ).run(f.reason, end(c), c.start);
    }
    for (const o of seen.ours) adopt(db, o.tenantId, o.subnet, pool, prefix);
  })();
}

/** The tenant holds the block of its existing network; blocks below it get rows, so none is lost. */
function adopt(db: Db, tenantId: string, subnet: string, pool: Cidr, prefix: number): void {
  const c = parseCidr(subnet);
  if (!c || c.prefix !== prefix || c.start < pool.start || end(c) > end(pool)) return release(db, tenantId); // made before the pool, or by another setting
  if (find(db, tenantId) === subnet) return;
  release(db, tenantId);
  const top = db
    .query<BlockRow, [number]>("SELECT * FROM subnet_blocks WHERE start <= ? ORDER BY start DESC LIMIT 1")
    .get(end(pool));
  for (let at = top ? top.start + size(top.prefix) : pool.start; at < c.start; at += size(prefix)) {
    const b = blockAtOrAfter(pool, prefix, at);
    if (!b || b.start >= c.start) break;
    db.query("INSERT OR IGNORE INTO subnet_blocks (start, prefix, tenant_id, reserved) VALUES (?, ?, NULL, NULL)").run(
      b.start,
      prefix,
    );
  }
  db.query(
    "INSERT INTO subnet_blocks (start, prefix, tenant_id, reserved) VALUES (?, ?, ?, NULL) ON CONFLICT (start) DO UPDATE SET tenant_id = excluded.tenant_id, reserved = NULL",
  ).run(c.start, prefix, tenantId);
}
