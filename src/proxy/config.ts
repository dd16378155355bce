// Caddy's JSON config as pure data, and route validation.
//
// Caddy's config holds no route: every admin change rebuilds Caddy's whole config (O(tenants)) and replaces the
// server, closing keep-alive connections. Each request's upstreams are looked up instead, through Caddy's `srv`
// dynamic upstreams, from the resolver process (`staxa resolver`), which answers from the store's routing table. So
// the config below is the same whatever routes exist: a deploy never changes it (docs/routing.md).
import type { Config } from "../config.ts";
import type { Route } from "./types.ts";
import { Invalid } from "../lib/errors.ts";
import { lookupName, type LookupKind } from "./dns-names.ts";
import { acmeCaFor } from "./local-ca.ts";

export const SERVER = "staxa";
/** @id of the route every HTTPS (or, with HTTPS off, every) request takes; the resolver checks it to see that Caddy has our config. */
export const PROXY_ID = "staxa-proxy";
/** How long Caddy keeps a lookup's answer: a switch reaches Caddy within it (the proxy waits for that before returning). */
export const LOOKUP_REFRESH_MS = 1000;
export const NOT_FOUND_BODY = "no tenant is served at this host\n";

export interface ProxyOptions {
  adminListen: string;
  httpPort: number;
  httpsPort: number;
  https: boolean;
  /** 127.0.0.1:<port>: the resolver's DNS (udp) and ask endpoint (tcp). */
  resolverPort: number;
  acmeCa: string;
  acmeCaRoot: string;
  acmeEmail: string;
  /** How long Caddy dials an upstream before it tries another (dialTimeoutFor). */
  dialTimeout: string;
}

/**
 * How long a dial to an upstream may take, per engine. On a cluster a node that vanished (power, network) answers
 * nothing: a request waits this long before Caddy marks it down and tries another task, so 2 s (not 1: one lost SYN
 * is resent after 1 s, and a live one-replica host must not be marked down for that). On one host an upstream is a
 * container on a local bridge: a retired replica's address fails in the kernel (no neighbour) after ~3 s, and at 2 s
 * the dial was cut first, every time, so requests still on the old answer queued up 2 s per try (test/e2e/
 * replicas.test.ts, scale 3 → 1: requests past the client's 5 s at 2 s, none at 5 s).
 */
export const dialTimeoutFor = (engine: Config["engine"]): string => (engine === "swarm" ? "2s" : "5s");

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
    resolverPort: config.resolverPort,
    acmeCa: acmeCaFor(config), // a .localhost or IP base domain: Caddy's internal CA
    acmeCaRoot: config.acmeCaRoot,
    acmeEmail: config.acmeEmail,
    dialTimeout: dialTimeoutFor(config.engine),
  };
}

const ROUTE_ID = /^[a-z0-9]([a-z0-9.-]{0,126}[a-z0-9])?$/;
const LABEL = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
const HOST = new RegExp(`^(?=.{1,200}$)${LABEL}(\\.${LABEL})*$`);
const UPSTREAM = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d{1,5})$/;

function validUpstream(u: unknown): string {
  const m = typeof u === "string" ? UPSTREAM.exec(u) : null;
  const port = m ? Number(m[5]) : 0;
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || port < 1 || port > 65535)
    throw new Invalid("route.upstream", "upstream must be an IPv4 address and port (a.b.c.d:port)");
  return u as string;
}

/**
 * Validates a route to the narrowest form: hosts [a-z0-9.-] (they become DNS names the resolver answers), upstreams
 * IPv4:port (what containers have, and what an SRV answer carries). `upstreams`, when given, are extra replicas served
 * beside `upstream`; the result lists them only when there is more than one.
 */
export function validRoute(route: Route): Route {
  if (typeof route.id !== "string" || !ROUTE_ID.test(route.id))
    throw new Invalid("route.id", "route id must be [a-z0-9.-], 1-128 characters");
  if (!Array.isArray(route.hosts) || route.hosts.length === 0)
    throw new Invalid("route.hosts", "a route needs at least one host");
  const hosts = route.hosts.map((h) => (typeof h === "string" ? h.toLowerCase() : ""));
  for (const h of hosts)
    if (!HOST.test(h)) throw new Invalid("route.hosts", `not a valid host name: ${JSON.stringify(h).slice(0, 80)}`);
  if (route.upstreams !== undefined && !Array.isArray(route.upstreams))
    throw new Invalid("route.upstreams", "upstreams must be a list");
  const all = [...new Set([route.upstream, ...(route.upstreams ?? [])].map(validUpstream))];
  return {
    id: route.id,
    hosts: [...new Set(hosts)],
    upstream: all[0]!,
    tls: route.tls === true,
    ...(all.length > 1 ? { upstreams: all } : {}),
  };
}

/** Every upstream of a (validated) route. */
export const upstreamsOf = (r: Route): string[] => r.upstreams ?? [r.upstream];

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

/** Hosts the lookup can carry (a DNS name of at most 253 characters); anything else is the catch-all 404 at once. */
const LOOKUP_HOST = "^[A-Za-z0-9.-]{1,200}$";

/**
 * A route that proxies to whatever the resolver answers for `<host>.<kind>.staxa.internal`. A host no route serves
 * is answered too (the resolver's own 404 page), so "no upstreams" only happens while the resolver is unreachable:
 * Caddy then tries again for a few seconds (a resolver restart) and dial failures (a container just gone) likewise.
 */
function lookupRoute(o: ProxyOptions, id: string, kind: LookupKind, match: Record<string, unknown>): unknown {
  const resolver = { addresses: [`udp/127.0.0.1:${o.resolverPort}`] };
  return {
    "@id": id,
    match: [{ ...match, vars_regexp: { "{http.request.host}": { pattern: LOOKUP_HOST } } }],
    handle: [
      {
        handler: "reverse_proxy",
        dynamic_upstreams: {
          source: "srv",
          name: lookupName(kind),
          refresh: `${LOOKUP_REFRESH_MS}ms`,
          resolver,
          dial_timeout: "1s",
        },
        // SRV targets are names (ip-a-b-c-d.staxa.internal), resolved by the same resolver.
        transport: { protocol: "http", resolver, dial_timeout: o.dialTimeout },
        // Replicas of a host take turns; one that fails (refused, reset) is skipped for a while, and the request is
        // tried on another. One dial failure marks it down for 2 s only: a one-replica host is back at once.
        load_balancing: { selection_policy: { policy: "round_robin" }, try_duration: "6s", try_interval: "100ms" },
        health_checks: { passive: { fail_duration: "2s", max_fails: 1 } },
      },
    ],
    terminal: true,
  };
}

/**
 * Caddy's whole config: loopback admin, one server whose routes only look upstreams up, on-demand TLS guarded by the
 * resolver's ask endpoint. With HTTPS on, plain HTTP is looked up under its own name: the resolver answers a TLS
 * host with its redirect to HTTPS.
 */
export function baseConfig(o: ProxyOptions): Record<string, unknown> {
  const routes = [
    ...(o.https ? [lookupRoute(o, "staxa-http", "http", { protocol: "http" })] : []),
    lookupRoute(o, PROXY_ID, "route", {}),
    { "@id": "staxa-catchall", handle: [{ handler: "static_response", status_code: 404, body: NOT_FOUND_BODY }], terminal: true },
  ];
  const server: Record<string, unknown> = {
    listen: o.https ? [`:${o.httpPort}`, `:${o.httpsPort}`] : [`:${o.httpPort}`],
    routes,
  };
  // No host matchers, so automatic HTTPS finds no names: TLS is switched on explicitly.
  if (o.https) server.tls_connection_policies = [{}];
  else server.automatic_https = { disable: true };
  const apps: Record<string, unknown> = {
    http: { http_port: o.httpPort, https_port: o.httpsPort, servers: { [SERVER]: server } },
  };
  if (o.https) {
    // install_trust off: the appliance never edits the system trust store, and the check costs ~600 ms per config change.
    apps.pki = { certificate_authorities: { local: { install_trust: false } } };
    apps.tls = {
      automation: {
        on_demand: { ask: `http://127.0.0.1:${o.resolverPort}/ask` },
        policies: [{ on_demand: true, issuers: [issuer(o)] }],
      },
    };
  }
  return { admin: { listen: o.adminListen }, apps };
}
