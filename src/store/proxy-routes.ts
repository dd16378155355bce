// The routing table (proxy_hosts, one row per host) and its revision: written by the appliance's proxy, read by the
// resolver process through `changesSince` (see migration 110 and docs/routing.md).
import { Database } from "bun:sqlite";
import type { Db } from "./db.ts";

/** One host as stored: upstreams as `host:port` dial addresses; none means removed (a tombstone). */
export interface HostRow {
  host: string;
  route_id: string;
  upstreams: string[];
  tls: boolean;
  rev: number;
}

/** A route as the table holds it: the hosts sharing one route id. */
export interface RouteRow {
  id: string;
  hosts: string[];
  upstreams: string[];
  tls: boolean;
}

/** Tombstones live this long: any resolver running has read them by then (it also reloads whole every few minutes). */
const TOMBSTONE_MS = 60 * 60_000;

type Raw = { host: string; route_id: string; upstreams: string; tls: number; rev: number };
const fromRaw = (r: Raw): HostRow => ({
  host: r.host,
  route_id: r.route_id,
  upstreams: r.upstreams ? r.upstreams.split(" ") : [],
  tls: r.tls === 1,
  rev: r.rev,
});
const sameEntry = (a: HostRow | undefined, id: string, r: RouteRow) =>
  !!a && a.route_id === id && a.tls === r.tls && a.upstreams.join(" ") === r.upstreams.join(" ");

/** Opens the store read-only for the resolver: it never writes, and WAL lets it read while the appliance writes. */
export function openReader(path: string): Db {
  const db = new Database(path, { readonly: true, strict: true });
  db.exec("PRAGMA busy_timeout = 2000");
  return db;
}

/** The table's revision: bumped by every change. */
export function currentRev(db: Db): number {
  return db.query<{ rev: number }, []>("SELECT rev FROM proxy_state WHERE id = 1").get()?.rev ?? 0;
}

/** Rows (tombstones included) changed after `rev`, oldest first; `rev` 0 reads the live table whole. */
export function changesSince(db: Db, rev: number): HostRow[] {
  const sql =
    rev === 0
      ? "SELECT host, route_id, upstreams, tls, rev FROM proxy_hosts WHERE upstreams != '' ORDER BY rev"
      : "SELECT host, route_id, upstreams, tls, rev FROM proxy_hosts WHERE rev > ? ORDER BY rev";
  return (rev === 0 ? db.query<Raw, []>(sql).all() : db.query<Raw, [number]>(sql).all(rev)).map(fromRaw);
}

/** Every live route, hosts grouped by route id (the reconciler's view). */
export function listRoutes(db: Db): RouteRow[] {
  const byId = new Map<string, RouteRow>();
  for (const r of db
    .query<Raw, []>("SELECT host, route_id, upstreams, tls, rev FROM proxy_hosts WHERE upstreams != '' ORDER BY route_id, host")
    .all()
    .map(fromRaw)) {
    const route = byId.get(r.route_id) ?? { id: r.route_id, hosts: [], upstreams: r.upstreams, tls: r.tls };
    route.hosts.push(r.host);
    byId.set(r.route_id, route);
  }
  return [...byId.values()];
}

export function hasHost(db: Db, host: string): boolean {
  return !!db.query("SELECT 1 FROM proxy_hosts WHERE host = ? AND upstreams != ''").get(host);
}

const liveOf = (db: Db, id: string) =>
  db
    .query<Raw, [string]>("SELECT host, route_id, upstreams, tls, rev FROM proxy_hosts WHERE route_id = ? AND upstreams != ''")
    .all(id)
    .map(fromRaw);
const rowOf = (db: Db, host: string) => {
  const r = db
    .query<Raw, [string]>("SELECT host, route_id, upstreams, tls, rev FROM proxy_hosts WHERE host = ? AND upstreams != ''")
    .get(host);
  return r ? fromRaw(r) : undefined;
};

/** Applies the planned host writes under one new revision; removed hosts become tombstones. */
function apply(db: Db, nowMs: number, put: Array<{ host: string; route: RouteRow }>, drop: string[]): void {
  const rev = db.query<{ rev: number }, []>("UPDATE proxy_state SET rev = rev + 1 WHERE id = 1 RETURNING rev").get()!.rev;
  const upsert = db.query(
    `INSERT INTO proxy_hosts (host, route_id, upstreams, tls, rev, changed_ms) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT(host) DO UPDATE SET route_id = excluded.route_id, upstreams = excluded.upstreams, tls = excluded.tls, rev = excluded.rev, changed_ms = excluded.changed_ms`,
  );
  for (const h of drop) upsert.run(h, "", "", 0, rev, nowMs);
  for (const { host, route } of put) upsert.run(host, route.id, route.upstreams.join(" "), route.tls ? 1 : 0, rev, nowMs);
  db.query("DELETE FROM proxy_hosts WHERE upstreams = '' AND changed_ms < ?").run(nowMs - TOMBSTONE_MS);
}

/**
 * Makes route `route.id` serve exactly its hosts (taking a host from any other route that had it), or removes the
 * route when `route` has no hosts. Returns the hosts whose answer changed; none (and no write) when nothing did.
 */
export function setRoute(db: Db, route: RouteRow, nowMs: number): string[] {
  return db
    .transaction(() => {
      const want = new Set(route.hosts);
      const drop = liveOf(db, route.id)
        .filter((r) => !want.has(r.host))
        .map((r) => r.host);
      const put = route.hosts.filter((h) => !sameEntry(rowOf(db, h), route.id, route)).map((host) => ({ host, route }));
      if (drop.length === 0 && put.length === 0) return [];
      apply(db, nowMs, put, drop);
      return [...drop, ...put.map((p) => p.host)];
    })
    .immediate();
}

/** Makes the table exactly `routes` in one revision (start-up reconciliation); returns the hosts whose answer changed. */
export function syncRoutes(db: Db, routes: RouteRow[], nowMs: number): string[] {
  return db
    .transaction(() => {
      const want = new Map<string, RouteRow>();
      for (const r of routes) for (const h of r.hosts) want.set(h, r);
      const live = new Map(
        listRoutes(db).flatMap((r) =>
          r.hosts.map((h) => [h, { host: h, route_id: r.id, upstreams: r.upstreams, tls: r.tls, rev: 0 } as HostRow]),
        ),
      );
      const drop = [...live.keys()].filter((h) => !want.has(h));
      const put = [...want].filter(([h, r]) => !sameEntry(live.get(h), r.id, r)).map(([host, route]) => ({ host, route }));
      if (drop.length === 0 && put.length === 0) return [];
      apply(db, nowMs, put, drop);
      return [...drop, ...put.map((p) => p.host)];
    })
    .immediate();
}

/** The Caddy config the appliance wants (JSON text), or undefined before its first start. */
export function getCaddyConfig(db: Db): string | undefined {
  return (
    db.query<{ caddy_config: string | null }, []>("SELECT caddy_config FROM proxy_state WHERE id = 1").get()?.caddy_config ??
    undefined
  );
}

export function putCaddyConfig(db: Db, json: string): void {
  db.query("UPDATE proxy_state SET caddy_config = ? WHERE id = 1 AND caddy_config IS NOT ?").run(json, json);
}
