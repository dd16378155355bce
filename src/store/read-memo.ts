// A per-connection memo for hot reads (GET /account): an entry lives until ANY write on the connection or maxAgeMs.
import type { Statement } from "bun:sqlite";
import type { Db } from "./db.ts";

interface Entry {
  value: unknown;
  changes: number; // total_changes() when read
  at: number; // performance.now() when read
}

interface Memo {
  entries: Map<string, Entry>;
  totalChanges: Statement<{ n: number }, []>;
}

const MAX_ENTRIES = 10_000;
const memos = new WeakMap<Db, Memo>();

function memoOf(db: Db): Memo {
  let m = memos.get(db);
  if (!m) memos.set(db, (m = { entries: new Map(), totalChanges: db.prepare<{ n: number }, []>("SELECT total_changes() AS n") }));
  return m;
}

/**
 * `read()` or its remembered value. SQLite's total_changes() counts every row this connection has
 * written (any table, triggers included) and reads no table, so it costs no lock: a value is reused
 * only while this process has written nothing at all since it was read, and never longer than
 * `maxAgeMs` (the bound for writes by another process). Inside a transaction nothing is remembered:
 * what it has read might still be rolled back.
 */
export function memoRead<T>(db: Db, key: string, maxAgeMs: number, read: () => T): T {
  if (db.inTransaction) return read();
  const m = memoOf(db);
  const changes = m.totalChanges.get()!.n;
  const now = performance.now();
  const hit = m.entries.get(key);
  if (hit && hit.changes === changes && now - hit.at < maxAgeMs) return hit.value as T;
  const value = read();
  if (m.entries.size >= MAX_ENTRIES) m.entries.clear();
  m.entries.set(key, { value, changes, at: now });
  return value;
}
