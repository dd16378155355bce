// An in-memory Proxy for unit tests of core and api: the same validation and host rules as the real one, no I/O.
import type { Proxy, Route } from "./types.ts";
import { validRoute } from "./config.ts";

export function createMemoryProxy(): Proxy & { routes: () => Route[] } {
  let table: Route[] = [];
  // A host belongs to one route: setting a route takes its hosts from any other.
  const put = (r: Route) => {
    const taken = new Set(r.hosts);
    table = table
      .filter((x) => x.id !== r.id)
      .map((x) => ({ ...x, hosts: x.hosts.filter((h) => !taken.has(h)) }))
      .filter((x) => x.hosts.length > 0);
    table.push(r);
  };
  const routes = () => table.map((r) => ({ ...r, hosts: [...r.hosts] }));
  return {
    async init() {},
    async setRoute(route) {
      put(validRoute(route));
    },
    async removeRoute(id) {
      table = table.filter((r) => r.id !== id);
    },
    async syncRoutes(list) {
      table = [];
      for (const r of list) put(validRoute(r));
    },
    async listRoutes() {
      return routes();
    },
    hasHost(host) {
      return table.some((r) => r.hosts.includes(host.toLowerCase()));
    },
    routes,
  } satisfies Proxy & { routes: () => Route[] };
}
