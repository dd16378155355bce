// Webhook endpoints of a provider (per mode); the signing secret is stored sealed.
import { named, type Db } from "./db.ts";
import { NotFound } from "../lib/errors.ts";

export interface WebhookRow {
  id: string;
  provider_id: string;
  mode: "live" | "test";
  url: string;
  /** JSON array of event names. */
  events: string;
  description: string | null;
  secret_enc: string;
  active: number;
  created_at: string;
  updated_at: string;
}

export type WebhookPatch = Partial<Pick<WebhookRow, "url" | "events" | "description" | "active" | "updated_at">>;

export function find(db: Db, providerId: string, mode: string, id: string): WebhookRow | undefined {
  return (
    db
      .query<WebhookRow, [string, string, string]>("SELECT * FROM webhooks WHERE provider_id = ? AND mode = ? AND id = ?")
      .get(providerId, mode, id) ?? undefined
  );
}

/** Like find, but a missing or foreign id is NotFound. */
export function get(db: Db, providerId: string, mode: string, id: string): WebhookRow {
  const row = find(db, providerId, mode, id);
  if (!row) throw new NotFound("Webhook");
  return row;
}

/** By id alone: for the delivery worker, which acts for every provider. */
export function findById(db: Db, id: string): WebhookRow | undefined {
  return db.query<WebhookRow, [string]>("SELECT * FROM webhooks WHERE id = ?").get(id) ?? undefined;
}

export function list(
  db: Db,
  providerId: string,
  mode: string,
  limit: number,
  offset: number,
): { rows: WebhookRow[]; total: number } {
  const rows = db
    .query<WebhookRow, [string, string, number, number]>(
      "SELECT * FROM webhooks WHERE provider_id = ? AND mode = ? ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
    )
    .all(providerId, mode, limit, offset);
  const total =
    db
      .query<{ n: number }, [string, string]>("SELECT COUNT(*) AS n FROM webhooks WHERE provider_id = ? AND mode = ?")
      .get(providerId, mode)?.n ?? 0;
  return { rows, total };
}

/** Active webhooks of a provider and mode: the candidates for one notification. */
export function listActive(db: Db, providerId: string, mode: string): WebhookRow[] {
  return db
    .query<WebhookRow, [string, string]>(
      "SELECT * FROM webhooks WHERE provider_id = ? AND mode = ? AND active = 1 ORDER BY created_at, id",
    )
    .all(providerId, mode);
}

export function insert(db: Db, row: WebhookRow): void {
  db.query(
    `INSERT INTO webhooks (id, provider_id, mode, url, events, description, secret_enc, active, created_at, updated_at)
            VALUES ($id, $provider_id, $mode, $url, $events, $description, $secret_enc, $active, $created_at, $updated_at)`,
  ).run(named(row));
}

export function update(db: Db, id: string, patch: WebhookPatch): void {
  const keys = Object.keys(patch).filter((k) => ["url", "events", "description", "active", "updated_at"].includes(k));
  if (keys.length === 0) return;
  const sets = keys.map((k) => `${k} = $${k}`).join(", ");
  const values = Object.fromEntries(keys.map((k) => [k, (patch as Record<string, unknown>)[k] ?? null]));
  db.query(`UPDATE webhooks SET ${sets} WHERE id = $id`).run(named({ ...values, id }));
}

export function remove(db: Db, providerId: string, mode: string, id: string): boolean {
  return db.query("DELETE FROM webhooks WHERE provider_id = ? AND mode = ? AND id = ?").run(providerId, mode, id).changes > 0;
}
