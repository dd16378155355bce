// The Proxy interface core speaks to; Caddy's admin API implements it (caddy.ts).

export interface Route {
  /** Stable id, e.g. "acme-corp.web" (also the Caddy @id suffix). */
  id: string;
  hosts: string[];
  /** host:port dial address of the healthy container. */
  upstream: string;
  /** Redirect HTTP to HTTPS and obtain a certificate for these hosts. */
  tls: boolean;
}

export interface Proxy {
  /** Ensures the base config (servers, TLS automation, catch-all) exists. Idempotent. */
  init(): Promise<void>;
  /** Adds or replaces one route. */
  setRoute(route: Route): Promise<void>;
  removeRoute(id: string): Promise<void>;
  listRoutes(): Promise<Route[]>;
  /** Makes the routing table exactly `routes` in one change (start-up reconciliation: one reload, not one per tenant). */
  syncRoutes(routes: Route[]): Promise<void>;
  /** True when a route serves `host` (answered from memory: the TLS `ask` endpoint calls it per handshake). */
  hasHost(host: string): boolean;
}
