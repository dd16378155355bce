// ReadMemo: a remembered read never outlives a write on the connection, nor maxAgeMs; transactions are never memoised.
import { describe, expect, test } from "bun:test";
import { openDb } from "../../../src/store/db.ts";
import { ReadMemo } from "../../../src/store/read-memo.ts";
import { testApp } from "../../support/ctx.ts";

function counted(db = openDb(":memory:")) {
  db.exec("CREATE TABLE a (v INTEGER); CREATE TABLE other (v INTEGER); INSERT INTO a VALUES (1)");
  let reads = 0;
  const memo = new ReadMemo(db);
  const read = (maxAge = 60_000) =>
    memo.read("k", maxAge, () => (reads++, db.query<{ v: number }, []>("SELECT v FROM a").get()!.v));
  return { db, read, reads: () => reads };
}

describe("ReadMemo", () => {
  test("reuses a read until the connection writes anything, in any table", () => {
    const { db, read, reads } = counted();
    expect([read(), read(), read()]).toEqual([1, 1, 1]);
    expect(reads()).toBe(1);
    db.exec("INSERT INTO other VALUES (5)");
    expect(read()).toBe(1);
    expect(reads()).toBe(2);
    db.exec("UPDATE a SET v = 2");
    expect(read()).toBe(2);
  });

  test("reads again after maxAgeMs (writes by another process are not seen by total_changes)", async () => {
    const { read, reads } = counted();
    read(20);
    read(20);
    expect(reads()).toBe(1);
    await Bun.sleep(30);
    read(20);
    expect(reads()).toBe(2);
  });

  test("inside a transaction nothing is remembered, so a rolled-back value is never served", () => {
    const { db, read } = counted();
    expect(read()).toBe(1);
    try {
      db.transaction(() => {
        db.exec("UPDATE a SET v = 99");
        expect(read()).toBe(99);
        throw new Error("roll back");
      })();
    } catch {}
    expect(read()).toBe(1);
  });

  test("GET /account shows a tenant created on the same connection at once", async () => {
    const { call, ctx, provider } = testApp();
    expect((await call("GET", "/api/v1/account")).json.data.tenant_count).toBe(0);
    const now = new Date().toISOString();
    ctx.db
      .query(
        `INSERT INTO tenants (id, provider_id, mode, name, status, branch, resource_size, egress_mode, created_at, updated_at)
                  VALUES ('ten_memo1', ?, 'live', 'memo-a', 'ready', 'main', 'small', 'open', ?, ?)`,
      )
      .run(provider.id, now, now);
    expect((await call("GET", "/api/v1/account")).json.data.tenant_count).toBe(1);
    expect((await call("PATCH", "/api/v1/account", { name: "Renamed" })).json.data.name).toBe("Renamed");
    expect((await call("GET", "/api/v1/account")).json.data.name).toBe("Renamed");
  });

  test("memos are per connection", () => {
    const a = counted();
    const b = counted(openDb(":memory:"));
    a.read();
    b.read();
    expect([a.reads(), b.reads()]).toEqual([1, 1]);
  });
});
