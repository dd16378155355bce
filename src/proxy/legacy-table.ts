// One-time upgrade: before this version, routes were rows of a `map` handler in Caddy's config (@id staxa-hosts).
// The first start of this version copies them into the store's routing table, so they keep being served when the new
// config replaces the old one, before start-up reconciliation has looked at anything.
import type { Db } from "../store/db.ts";
import type { Logger } from "../lib/log.ts";
import type { AdminClient } from "./admin-client.ts";
import * as table from "../store/proxy-routes.ts";
import { validRoute } from "./config.ts";

const OLD_MAPPINGS = "/id/staxa-hosts/handle/0/mappings";

export async function importLegacyTable(admin: AdminClient, db: Db, log: Logger): Promise<void> {
  if (table.currentRev(db) !== 0) return; // the store's table has been written: it is the truth
  const res = await admin.call("GET", OLD_MAPPINGS, undefined, [200, 400, 404, 500]);
  const rows =
    res.status === 200 ? ((await res.json()) as Array<{ input: string; outputs: [string, string, string] }> | null) : null;
  if (!Array.isArray(rows) || rows.length === 0) return;
  const byId = new Map<string, table.RouteRow>();
  for (const {
    input,
    outputs: [upstream, id, tls],
  } of rows) {
    try {
      const r = validRoute({ id, hosts: [input], upstream, tls: tls === "1" });
      const route = byId.get(id) ?? { id, hosts: [], upstreams: [r.upstream], tls: r.tls };
      route.hosts.push(r.hosts[0]!);
      byId.set(id, route);
    } catch {
      // A row this version cannot serve (not an IPv4 upstream): reconciliation routes its service again.
    }
  }
  table.syncRoutes(db, [...byId.values()], Date.now());
  log.info("routes moved from caddy's config to the store", { routes: byId.size });
}
