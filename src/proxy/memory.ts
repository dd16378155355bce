// An in-memory Proxy for unit tests of core and api: same validation and table rules as Caddy's, no I/O.
import type { Proxy, Route } from "./types.ts";
import { routesFromMappings, validRoute, withRoute, type HostMapping } from "./config.ts";

export function createMemoryProxy(): Proxy & { routes: () => Route[] } {
  let table: HostMapping[] = [];
  const routes = () => routesFromMappings(table);
  return {
    async init() {},
    async setRoute(route) {
      const r = validRoute(route);
      table = withRoute(table, r.id, r);
    },
    async removeRoute(id) {
      table = withRoute(table, id);
    },
    async syncRoutes(list) {
      table = list.map(validRoute).reduce((t, r) => withRoute(t, r.id, r), [] as HostMapping[]);
    },
    async listRoutes() {
      return routes();
    },
    hasHost(host) {
      return table.some((m) => m.input === host.toLowerCase());
    },
    routes,
  } satisfies Proxy & { routes: () => Route[] };
}
