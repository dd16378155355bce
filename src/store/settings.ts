// Appliance-wide key/value settings: the setup token's hash, the sealed session signing key.
import type { Db } from "./db.ts";

export function find(db: Db, key: string): string | undefined {
  return db.query<{ value: string }, [string]>("SELECT value FROM settings WHERE key = ?").get(key)?.value ?? undefined;
}

/** Sets `key` to `value`, replacing any previous value. */
export function upsert(db: Db, key: string, value: string): void {
  db.query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(
    key,
    value,
  );
}

/** Sets `key` only when it is unset; returns true when this call set it (first writer wins). */
export function insertIfMissing(db: Db, key: string, value: string): boolean {
  return db.query("INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)").run(key, value).changes > 0;
}

export function remove(db: Db, key: string): void {
  db.query("DELETE FROM settings WHERE key = ?").run(key);
}
