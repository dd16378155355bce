// Webhook deliveries: one row per (webhook, event), written before the first attempt so nothing is lost.
import { named, type Db } from "./db.ts";
import { NotFound } from "../lib/errors.ts";

export type DeliveryStatus = "pending" | "delivered" | "failed";

export interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_id: string;
  event: string;
  /** The exact JSON body sent (and signed). */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  /** ISO 8601 with milliseconds, compared as text: keep one format. */
  next_attempt_at: string;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

export function insert(db: Db, row: DeliveryRow): void {
  db.query(
    `INSERT INTO webhook_deliveries (id, webhook_id, event_id, event, payload, status, attempts, next_attempt_at, last_status_code, last_error, created_at, delivered_at)
            VALUES ($id, $webhook_id, $event_id, $event, $payload, $status, $attempts, $next_attempt_at, $last_status_code, $last_error, $created_at, $delivered_at)`,
  ).run(named(row));
}

export function find(db: Db, webhookId: string, id: string): DeliveryRow | undefined {
  return (
    db
      .query<DeliveryRow, [string, string]>("SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND id = ?")
      .get(webhookId, id) ?? undefined
  );
}

export function get(db: Db, webhookId: string, id: string): DeliveryRow {
  const row = find(db, webhookId, id);
  if (!row) throw new NotFound("Delivery");
  return row;
}

/** Most recent first. */
export function listRecent(db: Db, webhookId: string, limit: number, offset: number): { rows: DeliveryRow[]; total: number } {
  const rows = db
    .query<DeliveryRow, [string, number, number]>(
      "SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
    )
    .all(webhookId, limit, offset);
  const total =
    db.query<{ n: number }, [string]>("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = ?").get(webhookId)?.n ?? 0;
  return { rows, total };
}

/** Pending rows whose next attempt is due, oldest first. */
export function listDue(db: Db, nowIso: string, limit: number): DeliveryRow[] {
  return db
    .query<DeliveryRow, [string, number]>(
      "SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, rowid LIMIT ?",
    )
    .all(nowIso, limit);
}

/** Records the outcome of one attempt. */
export function update(
  db: Db,
  id: string,
  patch: Partial<
    Pick<DeliveryRow, "status" | "attempts" | "next_attempt_at" | "last_status_code" | "last_error" | "delivered_at">
  >,
): void {
  const keys = Object.keys(patch).filter((k) =>
    ["status", "attempts", "next_attempt_at", "last_status_code", "last_error", "delivered_at"].includes(k),
  );
  if (keys.length === 0) return;
  const sets = keys.map((k) => `${k} = $${k}`).join(", ");
  const values = Object.fromEntries(keys.map((k) => [k, (patch as Record<string, unknown>)[k] ?? null]));
  db.query(`UPDATE webhook_deliveries SET ${sets} WHERE id = $id`).run(named({ ...values, id }));
}
