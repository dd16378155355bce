// Persisted deployment events, with monotonic ids for SSE replay.
import { named, type Db } from "./db.ts";

export interface EventRow {
  id: number;
  tenant_id: string;
  deployment_id: string | null;
  service_name: string | null;
  stage: string;
  status: string;
  message: string;
  data: string | null;
  created_at: string;
}

export type NewEvent = Omit<EventRow, "id">;

export function insert(db: Db, e: NewEvent): number {
  const r = db
    .query(
      `INSERT INTO events (tenant_id, deployment_id, service_name, stage, status, message, data, created_at)
            VALUES ($tenant_id, $deployment_id, $service_name, $stage, $status, $message, $data, $created_at)`,
    )
    .run(named(e));
  return Number(r.lastInsertRowid);
}

/** Events of a tenant after `afterId` (exclusive), oldest first. */
export function listSince(db: Db, tenantId: string, afterId: number, limit = 1000): EventRow[] {
  return db
    .query<EventRow, [string, number, number]>("SELECT * FROM events WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?")
    .all(tenantId, afterId, limit);
}

/** The newest `limit` events of a tenant, oldest first. */
export function listRecent(db: Db, tenantId: string, limit = 200): EventRow[] {
  return db
    .query<EventRow, [string, number]>(
      "SELECT * FROM (SELECT * FROM events WHERE tenant_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id",
    )
    .all(tenantId, limit);
}

export function removeForTenant(db: Db, tenantId: string): void {
  db.query("DELETE FROM events WHERE tenant_id = ?").run(tenantId);
}
