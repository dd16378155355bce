// Caddy's JSON as data: base config, routing-table rows, route validation.
import { describe, expect, test } from "bun:test";
import { baseConfig, hostMappings, proxyOptions, routesFromMappings, validRoute, withRoute, type HostMapping, type ProxyOptions } from "../../src/proxy/config.ts";
import { testConfig } from "../support/ctx.ts";
import type { Route } from "../../src/proxy/types.ts";

const https: ProxyOptions = {
  adminListen: "127.0.0.1:2019", httpPort: 80, httpsPort: 443, https: true,
  askUrl: "http://127.0.0.1:8080/internal/tls/ask", acmeCa: "https://acme.test/dir", acmeCaRoot: "/etc/pebble.pem", acmeEmail: "ops@example.com",
};
const map = (mappings: unknown[]) => ({
  "@id": "staxa-hosts",
  handle: [{ handler: "map", source: "{http.request.host}", destinations: ["{staxa.upstream}", "{staxa.route}", "{staxa.tls}"], defaults: ["", "", ""], mappings }],
});
const proxy = {
  "@id": "staxa-proxy",
  match: [{ not: [{ vars: { "{staxa.upstream}": [""] } }] }],
  handle: [{ handler: "reverse_proxy", upstreams: [{ dial: "{staxa.upstream}" }] }],
  terminal: true,
};
const catchAll = { "@id": "staxa-catchall", handle: [{ handler: "static_response", status_code: 404, body: "no tenant is served at this host\n" }], terminal: true };
const redirect = (location: string) => ({
  "@id": "staxa-redirect",
  match: [{ protocol: "http", vars: { "{staxa.tls}": ["1"] } }],
  handle: [{ handler: "static_response", status_code: 308, headers: { Location: [location] } }],
  terminal: true,
});
const row = (input: string, upstream: string, id: string, tls = "1"): HostMapping => ({ "@id": `staxa-host-${input}`, input, outputs: [upstream, id, tls] });

describe("baseConfig", () => {
  test("https with an ACME CA: both ports, redirect, on-demand TLS asking the appliance, trusted roots", () => {
    expect(baseConfig(https)).toEqual({
      admin: { listen: "127.0.0.1:2019" },
      apps: {
        http: {
          http_port: 80, https_port: 443,
          servers: { staxa: { listen: [":80", ":443"], routes: [map([]), redirect("https://{http.request.host}{http.request.uri}"), proxy, catchAll], tls_connection_policies: [{}] } },
        },
        pki: { certificate_authorities: { local: { install_trust: false } } },
        tls: {
          automation: {
            on_demand: { ask: "http://127.0.0.1:8080/internal/tls/ask" },
            policies: [{
              on_demand: true,
              issuers: [{
                module: "acme", ca: "https://acme.test/dir", email: "ops@example.com", trusted_roots_pem_files: ["/etc/pebble.pem"],
                challenges: { http: { alternate_port: 80 }, "tls-alpn": { alternate_port: 443 } },
              }],
            }],
          },
        },
      },
    });
  });

  const cases: Array<[string, Partial<ProxyOptions>, (c: any) => unknown, unknown, HostMapping[]?]> = [
    ["internal CA", { acmeCa: "internal" }, (c) => c.apps.tls.automation.policies[0].issuers, [{ module: "internal" }]],
    ["no root, no email", { acmeCaRoot: "", acmeEmail: "" }, (c) => Object.keys(c.apps.tls.automation.policies[0].issuers[0]).sort(), ["ca", "challenges", "module"]],
    ["https on a non-default port keeps it in the redirect", { httpPort: 8081, httpsPort: 8443 }, (c) => c.apps.http.servers.staxa.routes[1].handle[0].headers.Location, ["https://{http.request.host}:8443{http.request.uri}"]],
    ["http only: one listener, no TLS app, automatic HTTPS off, no redirect", { https: false, httpPort: 8081 }, (c) => [c.apps.http.servers.staxa, c.apps.tls], [{ listen: [":8081"], routes: [map([]), proxy, catchAll], automatic_https: { disable: true } }, undefined]],
    ["existing rows are kept", {}, (c) => c.apps.http.servers.staxa.routes[0], map([row("a.staxa.test", "10.0.0.2:3000", "a.web")]), [row("a.staxa.test", "10.0.0.2:3000", "a.web")]],
  ];
  test.each(cases)("%s", (_name, over, pick, want, rows = []) => {
    expect(pick(baseConfig({ ...https, ...over }, rows))).toEqual(want);
  });
});

describe("baseConfig with the DNS lookup", () => {
  const resolver = { addresses: ["udp/127.0.0.1:5300"] };
  const lookup = (match?: unknown) => ({
    "@id": "staxa-dns",
    ...(match ? { match } : {}),
    handle: [{ handler: "reverse_proxy", dynamic_upstreams: { source: "srv", name: "{http.request.host}.g42.staxa.internal.", refresh: "5m", resolver }, transport: { protocol: "http", resolver } }],
    terminal: true,
  });
  const errors = { routes: [{ match: [{ vars: { "{http.error.status_code}": ["503"] } }], handle: [{ handler: "static_response", status_code: 404, body: "no tenant is served at this host\n" }] }] };

  test("https: the lookup takes HTTPS requests only, after the table's proxy and before the catch-all", () => {
    const server = (baseConfig(https, [], { port: 5300, gen: 42 }) as any).apps.http.servers.staxa;
    expect(server.routes).toEqual([map([]), redirect("https://{http.request.host}{http.request.uri}"), proxy, lookup([{ protocol: "https" }]), catchAll]);
    expect(server.errors).toEqual(errors);
  });
  test("http only: the lookup takes every request", () => {
    const server = (baseConfig({ ...https, https: false }, [], { port: 5300, gen: 42 }) as any).apps.http.servers.staxa;
    expect([server.routes, server.errors]).toEqual([[map([]), proxy, lookup(), catchAll], errors]);
  });
  test("without a responder there is no lookup and no error route", () => {
    const server = (baseConfig(https) as any).apps.http.servers.staxa;
    expect([server.routes.some((r: any) => r["@id"] === "staxa-dns"), server.errors]).toEqual([false, undefined]);
  });
});

describe("proxyOptions", () => {
  test("admin listen and ask URL come from the config", () => {
    const o = proxyOptions(testConfig({ STAXA_CADDY_ADMIN_URL: "http://127.0.0.1:23019", STAXA_PORT: "9090", STAXA_ACME_CA: "internal" }));
    expect([o.adminListen, o.askUrl, o.acmeCa, o.https]).toEqual(["127.0.0.1:23019", "http://127.0.0.1:9090/internal/tls/ask", "internal", true]);
  });
  test.each(["http://10.0.0.5:2019", "http://0.0.0.0:2019", "http://caddy.example.com:2019"])("refuses a non-loopback admin API %s", (url) => {
    expect(() => proxyOptions(testConfig({ STAXA_CADDY_ADMIN_URL: url }))).toThrow("loopback");
  });
});

describe("routes as rows", () => {
  const a: Route = { id: "acme.web", hosts: ["acme.staxa.test", "WWW.Acme.test"], upstream: "172.18.0.2:3000", tls: true };
  test("one row per host, lower-cased, outputs upstream / id / tls flag", () => {
    expect(hostMappings(a)).toEqual([row("acme.staxa.test", "172.18.0.2:3000", "acme.web"), row("www.acme.test", "172.18.0.2:3000", "acme.web")]);
    expect(hostMappings({ ...a, tls: false })[0]!.outputs[2]).toBe("");
  });
  test("rows read back as routes", () => {
    const rows = [...hostMappings(a), ...hostMappings({ id: "b.web", hosts: ["b.staxa.test"], upstream: "[::1]:80", tls: false })];
    expect(routesFromMappings(rows)).toEqual([{ ...a, hosts: ["acme.staxa.test", "www.acme.test"] }, { id: "b.web", hosts: ["b.staxa.test"], upstream: "[::1]:80", tls: false }]);
  });
  test("withRoute replaces a route's rows, takes over a moved host, removes with no route", () => {
    const rows = [...hostMappings(a), ...hostMappings({ id: "b.web", hosts: ["b.staxa.test"], upstream: "10.0.0.3:80", tls: true })];
    const switched = withRoute(rows, "acme.web", { ...a, hosts: ["acme.staxa.test"], upstream: "172.18.0.9:3000" });
    expect(switched).toEqual([row("b.staxa.test", "10.0.0.3:80", "b.web"), row("acme.staxa.test", "172.18.0.9:3000", "acme.web")]);
    expect(withRoute(switched, "c.web", { id: "c.web", hosts: ["b.staxa.test"], upstream: "10.0.0.4:80", tls: true })).toEqual([row("acme.staxa.test", "172.18.0.9:3000", "acme.web"), row("b.staxa.test", "10.0.0.4:80", "c.web")]);
    expect(withRoute(switched, "acme.web")).toEqual([row("b.staxa.test", "10.0.0.3:80", "b.web")]);
  });
});

describe("validRoute refuses what could become a placeholder, regex or bad @id", () => {
  const ok: Route = { id: "t.web", hosts: ["t.staxa.test"], upstream: "127.0.0.1:3000", tls: false };
  const bad: Array<[string, Partial<Route>, string]> = [
    ["upper-case id", { id: "T.web" }, "route.id"],
    ["id with a slash", { id: "a/b" }, "route.id"],
    ["id with a brace", { id: "{env.X}" }, "route.id"],
    ["empty id", { id: "" }, "route.id"],
    ["no hosts", { hosts: [] }, "route.hosts"],
    ["regex host", { hosts: ["~.*"] }, "route.hosts"],
    ["placeholder host", { hosts: ["{http.request.host}"] }, "route.hosts"],
    ["host with a port", { hosts: ["a.test:80"] }, "route.hosts"],
    ["host with a space", { hosts: ["exa mple.com"] }, "route.hosts"],
    ["placeholder upstream", { upstream: "{env.SECRET}:80" }, "route.upstream"],
    ["upstream without port", { upstream: "127.0.0.1" }, "route.upstream"],
    ["upstream port 0", { upstream: "127.0.0.1:0" }, "route.upstream"],
    ["upstream port 65536", { upstream: "127.0.0.1:65536" }, "route.upstream"],
    ["upstream with a path", { upstream: "127.0.0.1:80/x" }, "route.upstream"],
    ["upstream with shell", { upstream: "a;id:80" }, "route.upstream"],
  ];
  test.each(bad)("%s", (_n, over, field) => {
    let err: any;
    try {
      validRoute({ ...ok, ...over });
    } catch (e) {
      err = e;
    }
    expect(err?.details?.field).toBe(field);
  });
  test("a good route passes, duplicates folded", () => {
    expect(validRoute({ ...ok, hosts: ["t.staxa.test", "T.staxa.test"] })).toEqual(ok);
  });
});
