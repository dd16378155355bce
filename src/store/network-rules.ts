// Network rules of a tenant: inbound ports (from the pool) and outbound allowances; the port pool lives here.
import { named, type Db } from "./db.ts";
import { Conflict, NotFound } from "../lib/errors.ts";

export type RuleStatus = "active" | "expired";

export interface NetworkRuleRow {
  id: string;
  tenant_id: string;
  direction: "inbound" | "outbound";
  protocol: "tcp" | "udp";
  target_service: string | null;
  target_port: number | null;
  allocated_port: number | null;
  /** JSON arrays of CIDR strings. */
  source_cidrs: string;
  destination_cidrs: string;
  destination_port: number | null;
  status: RuleStatus;
  description: string | null;
  expires_at: string | null;
  created_at: string;
  updated_at: string;
}

export function find(db: Db, tenantId: string, id: string): NetworkRuleRow | undefined {
  return (
    db.query<NetworkRuleRow, [string, string]>("SELECT * FROM network_rules WHERE id = ? AND tenant_id = ?").get(id, tenantId) ??
    undefined
  );
}

export function get(db: Db, tenantId: string, id: string): NetworkRuleRow {
  const row = find(db, tenantId, id);
  if (!row) throw new NotFound("Network rule");
  return row;
}

/** Rules of a tenant, oldest first; `status` undefined means every status. */
export function list(db: Db, tenantId: string, q: { direction?: string; status?: string } = {}): NetworkRuleRow[] {
  return db
    .query<NetworkRuleRow, [string, string | null, string | null]>(
      "SELECT * FROM network_rules WHERE tenant_id = ?1 AND (?2 IS NULL OR direction = ?2) AND (?3 IS NULL OR status = ?3) ORDER BY created_at, rowid",
    )
    .all(tenantId, q.direction ?? null, q.status ?? null);
}

/** Every active rule across tenants (start-up re-application). */
export function listActive(db: Db): NetworkRuleRow[] {
  return db.query<NetworkRuleRow, []>("SELECT * FROM network_rules WHERE status = 'active' ORDER BY created_at, rowid").all();
}

/** Active rules whose expires_at is at or before `nowIso` (ISO strings of one format compare as times). */
export function listDue(db: Db, nowIso: string): NetworkRuleRow[] {
  return db
    .query<NetworkRuleRow, [string]>(
      "SELECT * FROM network_rules WHERE status = 'active' AND expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at",
    )
    .all(nowIso);
}

export function countActive(db: Db, tenantId: string): number {
  return db
    .query<{ n: number }, [string]>("SELECT COUNT(*) AS n FROM network_rules WHERE tenant_id = ? AND status = 'active'")
    .get(tenantId)!.n;
}

/** The lowest port of [lo, hi] held by no active rule, or undefined when the pool is exhausted. */
export function freePort(db: Db, [lo, hi]: [number, number]): number | undefined {
  const used = db
    .query<{ p: number }, [number, number]>(
      "SELECT allocated_port AS p FROM network_rules WHERE status = 'active' AND allocated_port BETWEEN ? AND ? ORDER BY allocated_port",
    )
    .all(lo, hi);
  let want = lo;
  for (const { p } of used) {
    if (p > want) break;
    want = p + 1;
  }
  return want <= hi ? want : undefined;
}

export function insert(db: Db, row: NetworkRuleRow): void {
  db.query(
    `INSERT INTO network_rules (id, tenant_id, direction, protocol, target_service, target_port, allocated_port, source_cidrs,
              destination_cidrs, destination_port, status, description, expires_at, created_at, updated_at)
            VALUES ($id, $tenant_id, $direction, $protocol, $target_service, $target_port, $allocated_port, $source_cidrs,
              $destination_cidrs, $destination_port, $status, $description, $expires_at, $created_at, $updated_at)`,
  ).run(named(row));
}

/**
 * Allocates a pool port (inbound rules) and inserts the row in ONE immediate transaction, so two
 * requests — or two processes — never get the same port; the unique partial index is the backstop.
 * `check` runs first, under the same write lock.
 */
export function insertWithPort(
  db: Db,
  row: NetworkRuleRow,
  pool: [number, number] | null,
  check: () => void = () => {},
): NetworkRuleRow {
  const tx = db.transaction(() => {
    check();
    const out = { ...row };
    if (pool) {
      const port = freePort(db, pool);
      if (port === undefined)
        throw new Conflict(
          `No free port left in the pool ${pool[0]}-${pool[1]}`,
          { pool: `${pool[0]}-${pool[1]}` },
          "port_pool_exhausted",
        );
      out.allocated_port = port;
    }
    insert(db, out);
    return out;
  });
  try {
    return tx.immediate();
  } catch (e) {
    if (String((e as Error).message).includes("UNIQUE"))
      throw new Conflict("The allocated port was taken meanwhile; retry", {}, "port_conflict");
    throw e;
  }
}

/** Marks a rule expired; its port goes back to the pool (the unique index covers active rows only). */
export function markExpired(db: Db, id: string, at: string): void {
  db.query("UPDATE network_rules SET status = 'expired', updated_at = ? WHERE id = ? AND status = 'active'").run(at, id);
}

export function remove(db: Db, id: string): void {
  db.query("DELETE FROM network_rules WHERE id = ?").run(id);
}
