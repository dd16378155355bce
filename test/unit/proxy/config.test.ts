// Caddy's JSON as data (the same config whatever the routes), and route validation.
import { describe, expect, test } from "bun:test";
import { baseConfig, dialTimeoutFor, proxyOptions, validRoute, type ProxyOptions } from "../../../src/proxy/config.ts";
import { testConfig } from "../../support/ctx.ts";
import type { Route } from "../../../src/proxy/types.ts";

const https: ProxyOptions = {
  adminListen: "127.0.0.1:2019",
  httpPort: 80,
  httpsPort: 443,
  https: true,
  resolverPort: 5380,
  acmeCa: "https://acme.test/dir",
  acmeCaRoot: "/etc/pebble.pem",
  acmeEmail: "ops@example.com",
  dialTimeout: "2s",
};
const resolver = { addresses: ["udp/127.0.0.1:5380"] };
const lookup = (id: string, kind: string, match: Record<string, unknown> = {}) => ({
  "@id": id,
  match: [{ ...match, vars_regexp: { "{http.request.host}": { pattern: "^[A-Za-z0-9.-]{1,200}$" } } }],
  handle: [
    {
      handler: "reverse_proxy",
      dynamic_upstreams: {
        source: "srv",
        name: `{http.request.host}.${kind}.staxa.internal.`,
        refresh: "1000ms",
        resolver,
        dial_timeout: "1s",
      },
      transport: { protocol: "http", resolver, dial_timeout: "2s" },
      load_balancing: { selection_policy: { policy: "round_robin" }, try_duration: "6s", try_interval: "100ms" },
      health_checks: { passive: { fail_duration: "2s", max_fails: 1 } },
    },
  ],
  terminal: true,
});
const catchAll = {
  "@id": "staxa-catchall",
  handle: [{ handler: "static_response", status_code: 404, body: "no tenant is served at this host\n" }],
  terminal: true,
};

describe("baseConfig", () => {
  test("https with an ACME CA: both ports, plain HTTP looked up apart, on-demand TLS asking the resolver, trusted roots", () => {
    expect(baseConfig(https)).toEqual({
      admin: { listen: "127.0.0.1:2019" },
      apps: {
        http: {
          http_port: 80,
          https_port: 443,
          servers: {
            staxa: {
              listen: [":80", ":443"],
              routes: [lookup("staxa-http", "http", { protocol: "http" }), lookup("staxa-proxy", "route"), catchAll],
              tls_connection_policies: [{}],
            },
          },
        },
        pki: { certificate_authorities: { local: { install_trust: false } } },
        tls: {
          automation: {
            on_demand: { ask: "http://127.0.0.1:5380/ask" },
            policies: [
              {
                on_demand: true,
                issuers: [
                  {
                    module: "acme",
                    ca: "https://acme.test/dir",
                    email: "ops@example.com",
                    trusted_roots_pem_files: ["/etc/pebble.pem"],
                    challenges: { http: { alternate_port: 80 }, "tls-alpn": { alternate_port: 443 } },
                  },
                ],
              },
            ],
          },
        },
      },
    });
  });

  const cases: Array<[string, Partial<ProxyOptions>, (c: any) => unknown, unknown]> = [
    ["internal CA", { acmeCa: "internal" }, (c) => c.apps.tls.automation.policies[0].issuers, [{ module: "internal" }]],
    [
      "no root, no email",
      { acmeCaRoot: "", acmeEmail: "" },
      (c) => Object.keys(c.apps.tls.automation.policies[0].issuers[0]).sort(),
      ["ca", "challenges", "module"],
    ],
    [
      "http only: one listener, one lookup, no TLS app, automatic HTTPS off",
      { https: false, httpPort: 8081 },
      (c) => [c.apps.http.servers.staxa, c.apps.tls],
      [{ listen: [":8081"], routes: [lookup("staxa-proxy", "route"), catchAll], automatic_https: { disable: true } }, undefined],
    ],
    [
      "the resolver port is the lookups' and the ask's",
      { resolverPort: 6000 },
      (c) => [c.apps.http.servers.staxa.routes[1].handle[0].dynamic_upstreams.resolver, c.apps.tls.automation.on_demand.ask],
      [{ addresses: ["udp/127.0.0.1:6000"] }, "http://127.0.0.1:6000/ask"],
    ],
  ];
  test.each(cases)("%s", (_name, over, pick, want) => {
    expect(pick(baseConfig({ ...https, ...over }))).toEqual(want);
  });
});

describe("proxyOptions", () => {
  test("admin listen and resolver port come from the config", () => {
    const o = proxyOptions(
      testConfig({ STAXA_CADDY_ADMIN_URL: "http://127.0.0.1:23019", STAXA_RESOLVER_PORT: "5999", STAXA_ACME_CA: "internal" }),
    );
    expect([o.adminListen, o.resolverPort, o.acmeCa, o.https]).toEqual(["127.0.0.1:23019", 5999, "internal", true]);
  });
  test.each(["http://10.0.0.5:2019", "http://0.0.0.0:2019", "http://caddy.example.com:2019"])(
    "refuses a non-loopback admin API %s",
    (url) => {
      expect(() => proxyOptions(testConfig({ STAXA_CADDY_ADMIN_URL: url }))).toThrow("loopback");
    },
  );
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
    ["upstream by name (an SRV answer carries addresses)", { upstream: "app:80" }, "route.upstream"],
    ["IPv6 upstream", { upstream: "[::1]:80" }, "route.upstream"],
    ["octet over 255", { upstream: "300.1.1.1:80" }, "route.upstream"],
    ["a bad replica", { upstreams: ["10.0.0.2:80", "x:1"] }, "route.upstream"],
    [
      "host longer than a lookup name can carry",
      { hosts: [`${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(30)}`] },
      "route.hosts",
    ],
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
  test("replicas: upstreams are listed beside upstream only when there is more than one", () => {
    expect(validRoute({ ...ok, upstreams: ["127.0.0.1:3000"] })).toEqual(ok);
    expect(validRoute({ ...ok, upstreams: ["10.0.0.2:80", "127.0.0.1:3000"] })).toEqual({
      ...ok,
      upstreams: ["127.0.0.1:3000", "10.0.0.2:80"],
    });
  });
});

test("the upstream dial timeout is the engine's: 2 s on a cluster (a vanished node answers nothing), 5 s on one host", () => {
  expect([dialTimeoutFor("swarm"), dialTimeoutFor("docker")]).toEqual(["2s", "5s"]);
  expect(proxyOptions(testConfig()).dialTimeout).toBe("5s");
  expect(proxyOptions(testConfig({ STAXA_ENGINE: "swarm" })).dialTimeout).toBe("2s");
});
