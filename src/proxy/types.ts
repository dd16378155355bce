// The Proxy interface core speaks to; caddy.ts implements it (the store's routing table, served through Caddy).

export interface Route {
  /** Stable id, e.g. "acme-corp.web". */
  id: string;
  hosts: string[];
  /** a.b.c.d:port dial address of the healthy container. */
  upstream: string;
  /** Extra replicas served beside `upstream` (requests are spread over all of them). */
  upstreams?: string[];
  /** Redirect HTTP to HTTPS and obtain a certificate for these hosts. */
  tls: boolean;
}

export interface Proxy {
  /** Ensures Caddy runs the base config (servers, TLS automation, the lookup route). Idempotent. */
  init(): Promise<void>;
  /** Adds or replaces one route; resolves once no request can reach the upstreams it replaced. */
  setRoute(route: Route): Promise<void>;
  removeRoute(id: string): Promise<void>;
  listRoutes(): Promise<Route[]>;
  /** Makes the routing table exactly `routes` in one change (start-up reconciliation). */
  syncRoutes(routes: Route[]): Promise<void>;
  /** True when a route serves `host`. */
  hasHost(host: string): boolean;
}
