// Route changes planned as one admin call each: append, replace, delete one row, or the whole table.
import { expect, test } from "bun:test";
import { planChange } from "../../src/proxy/table-change.ts";
import type { HostMapping } from "../../src/proxy/config.ts";
import type { Route } from "../../src/proxy/types.ts";

const row = (input: string, upstream: string, id: string, tls = ""): HostMapping => ({ "@id": `staxa-host-${input}`, input, outputs: [upstream, id, tls] });
const M = "/id/staxa-hosts/handle/0/mappings";
const a = row("a.test", "10.0.0.1:80", "a.web");
const b = row("b.test", "10.0.0.2:80", "b.web");
const r = (id: string, hosts: string[], upstream: string): Route => ({ id, hosts, upstream, tls: false });

const cases: Array<[string, HostMapping[], string, Route | undefined, HostMapping[], unknown]> = [
  ["new one-host route: append its row", [a], "b.web", r("b.web", ["b.test"], "10.0.0.2:80"), [a, b], { method: "POST", path: M, body: b }],
  ["switch upstream: replace the row by its @id, in place", [a, b], "a.web", r("a.web", ["a.test"], "10.0.0.9:80"), [row("a.test", "10.0.0.9:80", "a.web"), b], { method: "PATCH", path: "/id/staxa-host-a.test", body: row("a.test", "10.0.0.9:80", "a.web") }],
  ["unchanged route: no call at all", [a, b], "a.web", r("a.web", ["a.test"], "10.0.0.1:80"), [a, b], undefined],
  ["remove a one-host route: delete its row", [a, b], "a.web", undefined, [b], { method: "DELETE", path: "/id/staxa-host-a.test" }],
  ["remove an unknown route: no call", [a], "x.web", undefined, [a], undefined],
  ["host moves to another route: whole table", [a, b], "c.web", r("c.web", ["b.test"], "10.0.0.3:80"), [a, row("b.test", "10.0.0.3:80", "c.web")], { method: "PATCH", path: M, body: [a, row("b.test", "10.0.0.3:80", "c.web")] }],
  ["two hosts: whole table", [a], "b.web", r("b.web", ["b.test", "www.b.test"], "10.0.0.2:80"), [a, b, row("www.b.test", "10.0.0.2:80", "b.web")], { method: "PATCH", path: M, body: [a, b, row("www.b.test", "10.0.0.2:80", "b.web")] }],
];

for (const [name, rows, id, route, next, call] of cases) {
  test(name, () => expect(planChange(rows, id, route) as unknown).toEqual(call === undefined ? { next } : { next, call }));
}
