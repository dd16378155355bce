// API keys, stored by SHA-256 hash only.
import { named, type Db } from "./db.ts";

export interface ApiKeyRow {
  id: string;
  provider_id: string;
  name: string;
  prefix: string;
  hash: string;
  mode: "live" | "test";
  scopes: string;
  expires_at: string | null;
  last_used_at: string | null;
  created_at: string;
}

export function findByHash(db: Db, hash: string): ApiKeyRow | undefined {
  return db.query<ApiKeyRow, [string]>("SELECT * FROM api_keys WHERE hash = ?").get(hash) ?? undefined;
}

/** The columns authentication needs, by hash: the hot path of every request, so nothing more is read. */
export function findAuthByHash(
  db: Db,
  hash: string,
): Pick<ApiKeyRow, "id" | "provider_id" | "mode" | "scopes" | "expires_at"> | undefined {
  return (
    db
      .query<Pick<ApiKeyRow, "id" | "provider_id" | "mode" | "scopes" | "expires_at">, [string]>(
        "SELECT id, provider_id, mode, scopes, expires_at FROM api_keys WHERE hash = ?",
      )
      .get(hash) ?? undefined
  );
}

export function find(db: Db, providerId: string, id: string): ApiKeyRow | undefined {
  return (
    db.query<ApiKeyRow, [string, string]>("SELECT * FROM api_keys WHERE provider_id = ? AND id = ?").get(providerId, id) ??
    undefined
  );
}

export function list(db: Db, providerId: string, mode: "live" | "test"): ApiKeyRow[] {
  return db
    .query<ApiKeyRow, [string, string]>("SELECT * FROM api_keys WHERE provider_id = ? AND mode = ? ORDER BY created_at DESC, id")
    .all(providerId, mode);
}

export function insert(db: Db, row: ApiKeyRow): void {
  db.query(
    `INSERT INTO api_keys (id, provider_id, name, prefix, hash, mode, scopes, expires_at, last_used_at, created_at)
            VALUES ($id, $provider_id, $name, $prefix, $hash, $mode, $scopes, $expires_at, $last_used_at, $created_at)`,
  ).run(named(row));
}

/** Deletes a key of this provider (and, when given, this mode); false when there was none. */
export function remove(db: Db, providerId: string, id: string, mode?: "live" | "test"): boolean {
  if (mode)
    return db.query("DELETE FROM api_keys WHERE provider_id = ? AND id = ? AND mode = ?").run(providerId, id, mode).changes > 0;
  return db.query("DELETE FROM api_keys WHERE provider_id = ? AND id = ?").run(providerId, id).changes > 0;
}
