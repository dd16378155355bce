// A base domain no public CA can issue for gets Caddy's internal CA by default (the Quick start's *.staxa.localhost);
// a set STAXA_ACME_CA always wins.
import { describe, expect, test } from "bun:test";
import { LETS_ENCRYPT, acmeCaFor, isLocalDomain } from "../../../src/proxy/local-ca.ts";
import { baseConfig, proxyOptions } from "../../../src/proxy/config.ts";
import { loadConfig } from "../../../src/config.ts";

describe("isLocalDomain", () => {
  test.each([
    ["staxa.localhost", true],
    ["localhost", true],
    ["apps.test", true],
    ["lab.internal", true],
    ["box.local", true],
    ["x.home.arpa", true],
    ["192.168.1.10", true],
    ["127.0.0.1", true],
    ["tenants.example.com", false],
    ["staxa.dev", false],
    ["localhost.example.com", false],
    ["10.0.0.5.nip.io", false],
  ])("%s → %p", (d, want) => expect(isLocalDomain(d)).toBe(want));
});

describe("acmeCaFor", () => {
  test.each([
    [LETS_ENCRYPT, "staxa.localhost", "internal"],
    [LETS_ENCRYPT, "203.0.113.7", "internal"],
    [LETS_ENCRYPT, "tenants.example.com", LETS_ENCRYPT],
    ["https://pebble.test/dir", "staxa.localhost", "https://pebble.test/dir"],
    ["internal", "tenants.example.com", "internal"],
  ])("STAXA_ACME_CA %s, base %s → %s", (acmeCa, baseDomain, want) => expect(acmeCaFor({ acmeCa, baseDomain })).toBe(want));

  test("the default settings (staxa.localhost) put Caddy's internal issuer in the TLS policy", () => {
    const c = baseConfig(proxyOptions(loadConfig({}))) as any;
    expect(c.apps.tls.automation.policies[0].issuers).toEqual([{ module: "internal" }]);
    const public_ = baseConfig(proxyOptions(loadConfig({ STAXA_BASE_DOMAIN: "tenants.example.com" }))) as any;
    expect(public_.apps.tls.automation.policies[0].issuers[0]).toMatchObject({ module: "acme", ca: LETS_ENCRYPT });
  });
});
