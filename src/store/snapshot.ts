// Whole-database copies for backups: an online, consistent snapshot and an integrity check.
import type { Db } from "./db.ts";
import { schemaVersion } from "./db.ts";

/** Writes a consistent copy of the live database to `path` (must not exist); readers and writers keep going. */
export function vacuumInto(db: Db, path: string): void {
  db.query("VACUUM INTO ?").run(path);
}

/** "ok" when SQLite finds the file sound, else its first complaint. */
export function integrityCheck(db: Db): string {
  const row = db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get();
  return row?.integrity_check ?? "no answer";
}

/** Schema version recorded by migrations (0 when none ran). */
export function snapshotSchemaVersion(db: Db): number {
  return schemaVersion(db);
}
