// The store's routing table: one row per host, a revision per change, tombstones a reader can follow.
import { describe, expect, test } from "bun:test";
import { openDb, migrate } from "../../../src/store/db.ts";
import * as table from "../../../src/store/proxy-routes.ts";

const fresh = () => {
  const db = openDb(":memory:");
  migrate(db);
  return db;
};
const route = (id: string, hosts: string[], upstreams = ["10.0.0.2:3000"], tls = false): table.RouteRow => ({
  id,
  hosts,
  upstreams,
  tls,
});

describe("proxy routes", () => {
  test("a route's hosts are rows; setting it again unchanged writes nothing and keeps the revision", () => {
    const db = fresh();
    expect(table.setRoute(db, route("a.web", ["a.test", "www.a.test"]), 1)).toEqual(["a.test", "www.a.test"]);
    expect(table.currentRev(db)).toBe(1);
    expect(table.setRoute(db, route("a.web", ["a.test", "www.a.test"]), 2)).toEqual([]);
    expect(table.currentRev(db)).toBe(1);
    expect(table.listRoutes(db)).toEqual([route("a.web", ["a.test", "www.a.test"])]);
    expect([table.hasHost(db, "a.test"), table.hasHost(db, "b.test")]).toEqual([true, false]);
  });

  test("a switch changes only the rows whose answer changed, under a new revision a reader follows", () => {
    const db = fresh();
    table.setRoute(db, route("a.web", ["a.test", "www.a.test"]), 1);
    expect(table.setRoute(db, route("a.web", ["a.test"], ["10.0.0.9:3000", "10.0.0.8:3000"], true), 2)).toEqual([
      "www.a.test",
      "a.test",
    ]);
    expect(table.changesSince(db, 1)).toEqual([
      { host: "a.test", route_id: "a.web", upstreams: ["10.0.0.9:3000", "10.0.0.8:3000"], tls: true, rev: 2 },
      { host: "www.a.test", route_id: "", upstreams: [], tls: false, rev: 2 },
    ]);
    expect(table.changesSince(db, 0).map((r) => r.host)).toEqual(["a.test"]); // a whole read skips tombstones
  });

  test("a host moves to the route that sets it last; removing a route tombstones its hosts", () => {
    const db = fresh();
    table.setRoute(db, route("a.web", ["a.test", "shared.test"]), 1);
    table.setRoute(db, route("b.web", ["shared.test"], ["10.0.0.3:80"]), 2);
    expect(table.listRoutes(db)).toEqual([route("a.web", ["a.test"]), route("b.web", ["shared.test"], ["10.0.0.3:80"])]);
    expect(table.setRoute(db, route("a.web", []), 3)).toEqual(["a.test"]);
    expect(table.setRoute(db, route("never.web", []), 4)).toEqual([]);
    expect(table.listRoutes(db).map((r) => r.id)).toEqual(["b.web"]);
  });

  test("syncRoutes makes the table exactly the list in one revision", () => {
    const db = fresh();
    table.setRoute(db, route("a.web", ["a.test"]), 1);
    table.setRoute(db, route("b.web", ["b.test"]), 2);
    expect(table.syncRoutes(db, [route("b.web", ["b.test"]), route("c.web", ["c.test"])], 3).sort()).toEqual([
      "a.test",
      "c.test",
    ]);
    expect([table.currentRev(db), table.listRoutes(db).map((r) => r.id)]).toEqual([3, ["b.web", "c.web"]]);
    expect(table.syncRoutes(db, [route("b.web", ["b.test"]), route("c.web", ["c.test"])], 4)).toEqual([]);
  });

  test("tombstones go after an hour", () => {
    const db = fresh();
    table.setRoute(db, route("a.web", ["a.test"]), 0);
    table.setRoute(db, route("a.web", []), 1000);
    table.setRoute(db, route("b.web", ["b.test"]), 1000 + 3_600_001);
    expect(table.changesSince(db, 0 + 1).map((r) => r.host)).toEqual(["b.test"]);
  });

  test("the wanted Caddy config is kept for the resolver", () => {
    const db = fresh();
    expect(table.getCaddyConfig(db)).toBeUndefined();
    table.putCaddyConfig(db, '{"a":1}');
    expect(table.getCaddyConfig(db)).toBe('{"a":1}');
  });
});
