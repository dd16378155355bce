// Caddy's JSON config as pure data: the base config and the per-host mappings that route tenants.
//
// Why a map and not one Caddy route per tenant: every admin change rebuilds Caddy's whole
// config, so its cost grows with the config's size. Tenants are rows of ONE `map` handler
// (host -> upstream, route id, tls) in front of ONE reverse_proxy; bench/routes/run.ts
// measured adding a tenant 2-3x cheaper than per-tenant routes (200 tenants: ~7 ms vs ~18 ms).
import type { Config } from "../config.ts";
import type { Route } from "./types.ts";
import { Invalid } from "../lib/errors.ts";
import { acmeCaFor } from "./local-ca.ts";
import { srvName } from "./dns-responder.ts";

export const SERVER = "staxa";
/** @id of the map handler's route; its mappings are the routing table. */
export const HOSTS_ID = "staxa-hosts";
export const MAPPINGS_PATH = `/id/${HOSTS_ID}/handle/0/mappings`;
/** @id of the route that asks the appliance's DNS responder for hosts not (yet) in the table. */
export const DNS_ID = "staxa-dns";
/** Changing the looked-up name (its generation) is how Caddy's lookup cache is emptied. */
export const DNS_NAME_PATH = `/id/${DNS_ID}/handle/0/dynamic_upstreams/name`;
const NOT_FOUND_BODY = "no tenant is served at this host\n";
/** How long Caddy keeps a lookup's answer (the lookup route's refresh), in ms; removals bump the generation instead of waiting for it. */
export const DNS_REFRESH_MS = 5 * 60_000;

/** Where the appliance answers Caddy's upstream lookups (see dns-responder.ts). */
export interface DnsSource {
  port: number;
  gen: number;
}

/** One row of the routing table: a host and what it resolves to (outputs: [upstream, route id, "1" when tls]). */
export interface HostMapping {
  /** `staxa-host-<host>`: lets one row be replaced or deleted by id, with no index to go stale. */
  "@id": string;
  input: string;
  outputs: [string, string, string];
}

export interface ProxyOptions {
  adminListen: string;
  httpPort: number;
  httpsPort: number;
  https: boolean;
  askUrl: string;
  acmeCa: string;
  acmeCaRoot: string;
  acmeEmail: string;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)$/;

/** The proxy's options from the appliance config; the admin API must stay on loopback. */
export function proxyOptions(config: Config): ProxyOptions {
  const admin = new URL(config.caddyAdminUrl);
  if (!LOOPBACK.test(admin.hostname)) throw new Invalid("STAXA_CADDY_ADMIN_URL", "Caddy's admin API must listen on loopback");
  return {
    adminListen: admin.host.includes(":") ? admin.host : `${admin.host}:${admin.protocol === "https:" ? 443 : 80}`,
    httpPort: config.httpPort,
    httpsPort: config.httpsPort,
    https: config.publicScheme === "https",
    askUrl: `http://127.0.0.1:${config.port}/internal/tls/ask`,
    acmeCa: acmeCaFor(config), // a .localhost or IP base domain: Caddy's internal CA
    acmeCaRoot: config.acmeCaRoot,
    acmeEmail: config.acmeEmail,
  };
}

const ROUTE_ID = /^[a-z0-9]([a-z0-9.-]{0,126}[a-z0-9])?$/;
const LABEL = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
const HOST = new RegExp(`^(?=.{1,253}$)${LABEL}(\\.${LABEL})*$`);
const UPSTREAM = /^([a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?|\[[0-9a-f:.]+\]):(\d{1,5})$/;

/**
 * Validates a route to the narrowest form: ids become @ids and map outputs, hosts map
 * inputs, upstreams dial addresses. Braces (Caddy placeholders) and `~` (regex inputs)
 * can never pass.
 */
export function validRoute(route: Route): Route {
  if (typeof route.id !== "string" || !ROUTE_ID.test(route.id)) throw new Invalid("route.id", "route id must be [a-z0-9.-], 1-128 characters");
  if (!Array.isArray(route.hosts) || route.hosts.length === 0) throw new Invalid("route.hosts", "a route needs at least one host");
  const hosts = route.hosts.map((h) => (typeof h === "string" ? h.toLowerCase() : ""));
  for (const h of hosts) if (!HOST.test(h)) throw new Invalid("route.hosts", `not a valid host name: ${JSON.stringify(h).slice(0, 80)}`);
  const m = typeof route.upstream === "string" ? UPSTREAM.exec(route.upstream.toLowerCase()) : null;
  const port = m ? Number(m[3]) : 0;
  if (!m || port < 1 || port > 65535) throw new Invalid("route.upstream", "upstream must be host:port");
  return { id: route.id, hosts: [...new Set(hosts)], upstream: route.upstream.toLowerCase(), tls: route.tls === true };
}

/** The @id of a host's row (hosts are validated to [a-z0-9.-], a safe @id). */
export const hostId = (host: string) => `staxa-host-${host}`;

/** The routing-table rows of one route. */
export function hostMappings(route: Route): HostMapping[] {
  const r = validRoute(route);
  return r.hosts.map((input) => ({ "@id": hostId(input), input, outputs: [r.upstream, r.id, r.tls ? "1" : ""] }));
}

/** Routes read back from the routing table (rows grouped by route id, in table order). */
export function routesFromMappings(rows: HostMapping[]): Route[] {
  const byId = new Map<string, Route>();
  for (const { input, outputs } of rows) {
    const [upstream, id, tls] = outputs;
    const r = byId.get(id) ?? { id, hosts: [], upstream, tls: tls === "1" };
    r.hosts.push(input);
    byId.set(id, r);
  }
  return [...byId.values()];
}

/** The table with `route`'s rows replaced (or removed when `route` is undefined); other routes keep their order. */
export function withRoute(rows: HostMapping[], id: string, route?: Route): HostMapping[] {
  const next = route ? hostMappings(route) : [];
  const taken = new Set(next.map((m) => m.input));
  return [...rows.filter((m) => m.outputs[1] !== id && !taken.has(m.input)), ...next];
}

function issuer(o: ProxyOptions): Record<string, unknown> {
  if (o.acmeCa === "internal") return { module: "internal" };
  return {
    module: "acme",
    ca: o.acmeCa,
    ...(o.acmeEmail ? { email: o.acmeEmail } : {}),
    ...(o.acmeCaRoot ? { trusted_roots_pem_files: [o.acmeCaRoot] } : {}),
    // Challenges are answered by our own server on these ports (Caddy serves them before any route).
    challenges: { http: { alternate_port: o.httpPort }, "tls-alpn": { alternate_port: o.httpsPort } },
  };
}

/**
 * Hosts missing from the table are looked up over DNS: a route just added is served before it is written
 * to the table. With HTTPS on, only HTTPS requests take it: plain HTTP of a new host waits for its row,
 * which carries the redirect.
 */
function lookupRoute(o: ProxyOptions, dns: DnsSource): unknown {
  const resolver = { addresses: [`udp/127.0.0.1:${dns.port}`] };
  return {
    "@id": DNS_ID,
    ...(o.https ? { match: [{ protocol: "https" }] } : {}),
    handle: [{
      handler: "reverse_proxy",
      // An unknown host (NXDOMAIN) leaves it no upstream: a 503 error, answered as 404 by notFoundErrors.
      dynamic_upstreams: { source: "srv", name: srvName(dns.gen), refresh: `${DNS_REFRESH_MS / 60_000}m`, resolver },
      // SRV targets are names (ip-a-b-c-d.staxa.internal), resolved by the same responder.
      transport: { protocol: "http", resolver },
    }],
    terminal: true,
  };
}

/**
 * "No upstreams available" (503) can only come from a lookup that found no route (the table's proxy always
 * has its one upstream): it is the catch-all's 404. Other errors keep Caddy's default answer.
 */
const notFoundErrors = {
  routes: [{ match: [{ vars: { "{http.error.status_code}": ["503"] } }], handle: [{ handler: "static_response", status_code: 404, body: NOT_FOUND_BODY }] }],
};

function routes(o: ProxyOptions, mappings: HostMapping[], dns?: DnsSource): unknown[] {
  const httpsHost = o.httpsPort === 443 ? "{http.request.host}" : `{http.request.host}:${o.httpsPort}`;
  return [
    {
      "@id": HOSTS_ID,
      handle: [{
        handler: "map",
        source: "{http.request.host}",
        destinations: ["{staxa.upstream}", "{staxa.route}", "{staxa.tls}"],
        defaults: ["", "", ""],
        mappings,
      }],
    },
    ...(o.https
      ? [{
          "@id": "staxa-redirect",
          match: [{ protocol: "http", vars: { "{staxa.tls}": ["1"] } }],
          handle: [{ handler: "static_response", status_code: 308, headers: { Location: [`https://${httpsHost}{http.request.uri}`] } }],
          terminal: true,
        }]
      : []),
    {
      "@id": "staxa-proxy",
      match: [{ not: [{ vars: { "{staxa.upstream}": [""] } }] }],
      handle: [{ handler: "reverse_proxy", upstreams: [{ dial: "{staxa.upstream}" }] }],
      terminal: true,
    },
    ...(dns ? [lookupRoute(o, dns)] : []),
    {
      "@id": "staxa-catchall",
      handle: [{ handler: "static_response", status_code: 404, body: NOT_FOUND_BODY }],
      terminal: true,
    },
  ];
}

/**
 * Caddy's whole config: loopback admin, one server, the routing table, on-demand TLS guarded by the ask
 * endpoint, and, when `dns` is given, the lookup of hosts not yet in the table.
 */
export function baseConfig(o: ProxyOptions, mappings: HostMapping[] = [], dns?: DnsSource): Record<string, unknown> {
  const server: Record<string, unknown> = {
    listen: o.https ? [`:${o.httpPort}`, `:${o.httpsPort}`] : [`:${o.httpPort}`],
    routes: routes(o, mappings, dns),
  };
  // Hosts live in the map, not in host matchers, so automatic HTTPS finds none: TLS is switched on explicitly.
  if (o.https) server.tls_connection_policies = [{}];
  else server.automatic_https = { disable: true };
  if (dns) server.errors = notFoundErrors;
  const apps: Record<string, unknown> = {
    http: { http_port: o.httpPort, https_port: o.httpsPort, servers: { [SERVER]: server } },
  };
  if (o.https) {
    // install_trust off: the appliance never edits the system trust store, and the check costs ~600 ms per config change.
    apps.pki = { certificate_authorities: { local: { install_trust: false } } };
    apps.tls = { automation: { on_demand: { ask: o.askUrl }, policies: [{ on_demand: true, issuers: [issuer(o)] }] } };
  }
  return { admin: { listen: o.adminListen }, apps };
}
