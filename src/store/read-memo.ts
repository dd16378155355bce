// A per-connection memo for hot reads (GET /account): an entry lives until ANY write on the connection or maxAgeMs.
// One per context (ctx.reads), over the context's own connection.
import type { Statement } from "bun:sqlite";
import type { Db } from "./db.ts";

interface Entry {
  value: unknown;
  changes: number; // total_changes() when read
  at: number; // performance.now() when read
}

const MAX_ENTRIES = 10_000;

export class ReadMemo {
  private readonly entries = new Map<string, Entry>();
  private readonly totalChanges: Statement<{ n: number }, []>;

  constructor(private readonly db: Db) {
    this.totalChanges = db.prepare<{ n: number }, []>("SELECT total_changes() AS n");
  }

  /**
   * `read()` or its remembered value. SQLite's total_changes() counts every row this connection has
   * written (any table, triggers included) and reads no table, so it costs no lock: a value is reused
   * only while this process has written nothing at all since it was read, and never longer than
   * `maxAgeMs` (the bound for writes by another process). Inside a transaction nothing is remembered:
   * what it has read might still be rolled back.
   */
  read<T>(key: string, maxAgeMs: number, read: () => T): T {
    if (this.db.inTransaction) return read();
    const changes = this.totalChanges.get()!.n;
    const now = performance.now();
    const hit = this.entries.get(key);
    if (hit && hit.changes === changes && now - hit.at < maxAgeMs) return hit.value as T;
    const value = read();
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, { value, changes, at: now });
    return value;
  }
}
