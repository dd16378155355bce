// The resolver's table in memory, and how long Caddy may still use an answer from before a change.
import { describe, expect, test } from "bun:test";
import { RouteTable } from "../../../src/proxy/route-table.ts";
import type { HostRow } from "../../../src/store/proxy-routes.ts";

const row = (host: string, upstreams: string[], rev = 1, tls = false): HostRow => ({
  host,
  route_id: upstreams.length ? `${host}.web` : "",
  upstreams,
  tls,
  rev,
});

describe("RouteTable", () => {
  test("applies changes, tombstones and whole reloads", () => {
    const t = new RouteTable(1000);
    t.apply([row("a.test", ["10.0.0.2:80"]), row("b.test", ["10.0.0.3:80"])], 1, 0);
    t.apply([row("a.test", [], 2)], 2, 10);
    expect([...t.hosts.keys()]).toEqual(["b.test"]);
    t.apply([row("c.test", ["10.0.0.4:80"], 3)], 3, 20, true);
    expect([[...t.hosts.keys()], t.rev]).toEqual([["c.test"], 3]);
  });

  const settleCases: Array<[string, Array<["route" | "http", number]>, number]> = [
    ["never asked: no wait", [], 0],
    ["asked before the change: until that answer expires (+ slack)", [["route", 400]], 400 + 1000 + 150 - 600],
    [
      "asked again after the change: Caddy has the new answer",
      [
        ["route", 400],
        ["route", 550],
      ],
      0,
    ],
    ["the plain-HTTP lookup counts too", [["http", 450]], 450 + 1000 + 150 - 600],
    ["answered long ago: expired", [["route", -2000]], 0],
  ];
  test.each(settleCases)("settle: %s", (_n, answers, want) => {
    const t = new RouteTable(1000);
    t.apply([row("a.test", ["10.0.0.2:80"])], 1, -5000);
    for (const [kind, at] of answers) if (at < 500) t.answeredNow(kind, "a.test", at);
    t.apply([row("a.test", ["10.0.0.9:80"], 2)], 2, 500);
    for (const [kind, at] of answers) if (at >= 500) t.answeredNow(kind, "a.test", at);
    expect(t.settleMs(["a.test"], 600)).toBe(want);
  });

  test("a removal settles like a switch; prune forgets what can no longer be cached", () => {
    const t = new RouteTable(1000);
    t.apply([row("a.test", ["10.0.0.2:80"])], 1, 0);
    t.answeredNow("route", "a.test", 100);
    t.apply([row("a.test", [], 2)], 2, 200);
    expect(t.settleMs(["a.test"], 300)).toBe(950);
    t.prune(5000);
    expect(t.settleMs(["a.test"], 5000)).toBe(0);
  });
});
