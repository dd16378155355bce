// Migrations on an old database: data survives a new migration; a failing one leaves the database as it was.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb, migrate, schemaVersion } from "../../../src/store/db.ts";
import { MIGRATIONS } from "../../../src/store/migrations/index.ts";

const dir = mkdtempSync(join(tmpdir(), "staxa-mig-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const V1 = MIGRATIONS.filter((m) => m.version === 1);
const FAKE = 9001;

function oldDatabase(name: string) {
  const path = join(dir, name);
  const db = openDb(path);
  expect(migrate(db, V1)).toEqual([1]);
  db.query(
    "INSERT INTO providers (id, email, name, created_at, updated_at) VALUES ('prv_old', 'old@example.com', 'Old', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')",
  ).run();
  db.query(
    "INSERT INTO api_keys (id, provider_id, name, prefix, hash, mode, created_at) VALUES ('key_old', 'prv_old', 'k', 'sk_live_abcd', 'h1', 'live', '2025-01-01T00:00:00Z')",
  ).run();
  db.close();
  return path;
}

describe("migrations", () => {
  test("a version-1 database gets a new migration; its data survives a reopen", () => {
    const path = oldDatabase("old.db");
    const db = openDb(path);
    expect(schemaVersion(db)).toBe(1);
    const fake = {
      version: FAKE,
      name: "add_note",
      sql: "ALTER TABLE providers ADD COLUMN note TEXT NOT NULL DEFAULT 'kept'; CREATE INDEX providers_note ON providers(note);",
    };
    expect(migrate(db, [...V1, fake])).toEqual([FAKE]);
    expect(migrate(db, [...V1, fake])).toEqual([]); // idempotent
    db.close();
    const again = openDb(path);
    expect(schemaVersion(again)).toBe(FAKE);
    expect(again.query("SELECT id, email, name, note FROM providers").all()).toEqual([
      { id: "prv_old", email: "old@example.com", name: "Old", note: "kept" },
    ]);
    expect(again.query("SELECT id FROM api_keys").all()).toEqual([{ id: "key_old" }]);
    again.close();
  });

  test("every shipped migration applies to a version-1 database with data", () => {
    const path = oldDatabase("all.db");
    const db = openDb(path);
    migrate(db);
    expect(schemaVersion(db)).toBe(Math.max(...MIGRATIONS.map((m) => m.version)));
    expect(db.query("SELECT email FROM providers").all()).toEqual([{ email: "old@example.com" }]);
    db.close();
  });

  test("a failing migration rolls back completely and is not recorded", () => {
    const path = oldDatabase("fail.db");
    const db = openDb(path);
    const broken = {
      version: FAKE,
      name: "broken",
      sql: "CREATE TABLE half (x TEXT); DELETE FROM providers; INSERT INTO no_such_table VALUES (1);",
    };
    expect(() => migrate(db, [...V1, broken])).toThrow();
    expect(schemaVersion(db)).toBe(1);
    expect(db.query("SELECT name FROM sqlite_master WHERE name = 'half'").all()).toEqual([]);
    expect(db.query("SELECT id FROM providers").all()).toEqual([{ id: "prv_old" }]);
    db.close();
  });

  test("the store's pragmas: WAL, foreign keys, busy timeout, synchronous FULL", () => {
    const db = openDb(join(dir, "pragmas.db"));
    expect(db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect(db.query("PRAGMA foreign_keys").get()).toEqual({ foreign_keys: 1 });
    expect(db.query("PRAGMA busy_timeout").get()).toEqual({ timeout: 5000 });
    expect(db.query("PRAGMA synchronous").get()).toEqual({ synchronous: 2 });
    db.close();
  });
});
