// The Proxy core calls: routes are rows of the store's routing table, served by the resolver process through Caddy's
// dynamic upstreams. Caddy's config is the same for every set of routes, so a route change never touches Caddy: it
// is one row write, then one call that has the resolver read it (docs/routing.md).
import type { Config } from "../config.ts";
import type { Db } from "../store/db.ts";
import type { Proxy, Route } from "./types.ts";
import type { Logger } from "../lib/log.ts";
import { silentLogger } from "../lib/log.ts";
import * as table from "../store/proxy-routes.ts";
import { baseConfig, proxyOptions, upstreamsOf, validRoute } from "./config.ts";
import { AdminClient } from "./admin-client.ts";
import { ResolverClient } from "./resolver-client.ts";
import { importLegacyTable } from "./legacy-table.ts";

/** Keys sorted, so two configs compare equal whatever order Caddy stores them in. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x && typeof x === "object" && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );
}

const rowOf = (r: Route): table.RouteRow => ({ id: r.id, hosts: r.hosts, upstreams: upstreamsOf(r), tls: r.tls });
const routeOf = (r: table.RouteRow): Route => ({
  id: r.id,
  hosts: r.hosts,
  upstream: r.upstreams[0]!,
  tls: r.tls,
  ...(r.upstreams.length > 1 ? { upstreams: r.upstreams } : {}),
});

export function createCaddyProxy(config: Config, db: Db, log: Logger = silentLogger): Proxy {
  const opts = proxyOptions(config);
  const admin = new AdminClient(config.caddyAdminUrl);
  const resolver = new ResolverClient(opts.resolverPort);

  /**
   * Returns once Caddy serves the new answers of `hosts`: the resolver has read the change, and no answer Caddy cached
   * before it can still be used (so the caller may stop an old upstream). Without a resolver the row still counts: it
   * is served when the resolver is back (and Caddy, which cannot look anything up meanwhile, holds nothing newer).
   */
  const settle = async (hosts: string[]) => {
    if (hosts.length === 0) return;
    try {
      const { settle_ms } = await resolver.sync(hosts);
      if (settle_ms > 0) await Bun.sleep(settle_ms);
    } catch (err) {
      log.warn("route resolver not answering; the route is stored and served when it is back", { error: (err as Error).message });
    }
  };

  return {
    async init() {
      const want = baseConfig(opts);
      // Upgrading from the routing table kept in Caddy's config: its rows become the store's once, before it goes.
      await importLegacyTable(admin, db, log);
      table.putCaddyConfig(db, JSON.stringify(want));
      const res = await admin.call("GET", "/config/");
      if (canonical(await res.json()) === canonical(want)) return;
      await admin.call("POST", "/load", want);
      log.info("caddy base config loaded");
    },

    async setRoute(route: Route) {
      const r = validRoute(route);
      await settle(table.setRoute(db, rowOf(r), Date.now()));
      log.debug("route set", { route: r.id, upstreams: upstreamsOf(r) });
    },

    async removeRoute(id: string) {
      await settle(table.setRoute(db, { id, hosts: [], upstreams: [], tls: false }, Date.now()));
      log.debug("route removed", { route: id });
    },

    async syncRoutes(routes: Route[]) {
      await settle(table.syncRoutes(db, routes.map(validRoute).map(rowOf), Date.now()));
    },

    async listRoutes() {
      return table.listRoutes(db).map(routeOf);
    },

    hasHost(host: string) {
      return table.hasHost(db, host.toLowerCase());
    },
  } satisfies Proxy;
}
