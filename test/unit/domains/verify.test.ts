// DNS verification, certificate judgement and the domain scheduler, with an injected resolver and TLS probe.
import { describe, expect, test } from "bun:test";
import { checkDns, type DnsLookup } from "../../../src/core/domains/dns-verify.ts";
import { judgeCertificate, nextSslStatus, PROVISION_GRACE_MS, refreshSsl } from "../../../src/core/domains/tls.ts";
import { checkPendingDomains, reverifyDomains } from "../../../src/scheduler/domains-job.ts";
import type { TlsProbe } from "../../../src/proxy/tls-probe.ts";
import { fakeApp } from "../../support/fakes.ts";
import { fakeDns } from "../../support/dns.ts";

const base = { domain: "app.acme.com", token: "staxa-verify-tok", serverIp: "203.0.113.7", tenantHost: "acme.staxa.test" };
const failing: DnsLookup = {
  a: async () => {
    throw new Error("DNS lookup failed: ETIMEOUT");
  },
  aaaa: async () => [],
  cname: async () => [],
  txt: async () => {
    throw new Error("DNS lookup failed: ECONNREFUSED");
  },
};

describe("checkDns", () => {
  const cases: Array<[string, Record<string, string[]>, Partial<typeof base>, boolean, [boolean, boolean]]> = [
    ["nothing", {}, {}, false, [false, false]],
    [
      "A + TXT",
      { "A app.acme.com": ["203.0.113.7"], "TXT _staxa-challenge.app.acme.com": ["staxa-verify-tok"] },
      {},
      true,
      [true, true],
    ],
    ["A only", { "A app.acme.com": ["203.0.113.7"] }, {}, false, [false, true]],
    ["TXT only", { "TXT _staxa-challenge.app.acme.com": ["staxa-verify-tok"] }, {}, false, [true, false]],
    [
      "A elsewhere",
      { "A app.acme.com": ["198.51.100.2"], "TXT _staxa-challenge.app.acme.com": ["staxa-verify-tok"] },
      {},
      false,
      [true, false],
    ],
    [
      "one of several A records",
      { "A app.acme.com": ["198.51.100.2", "203.0.113.7"], "TXT _staxa-challenge.app.acme.com": ["x", "staxa-verify-tok"] },
      {},
      true,
      [true, true],
    ],
    [
      "CNAME to the tenant host",
      { "CNAME app.acme.com": ["ACME.staxa.test."], "TXT _staxa-challenge.app.acme.com": ["staxa-verify-tok"] },
      {},
      true,
      [true, true],
    ],
    [
      "CNAME elsewhere",
      { "CNAME app.acme.com": ["evil.example.net"], "TXT _staxa-challenge.app.acme.com": ["staxa-verify-tok"] },
      {},
      false,
      [true, false],
    ],
    [
      "AAAA to an IPv6 server_ip, other spelling",
      { "AAAA app.acme.com": ["2001:db8:0:0:0:0:0:1"], "TXT _staxa-challenge.app.acme.com": ["staxa-verify-tok"] },
      { serverIp: "2001:db8::1" },
      true,
      [true, true],
    ],
    [
      "token of another domain",
      { "A app.acme.com": ["203.0.113.7"], "TXT _staxa-challenge.app.acme.com": ["staxa-verify-other"] },
      {},
      false,
      [false, true],
    ],
    [
      "token as a substring is not enough",
      { "A app.acme.com": ["203.0.113.7"], "TXT _staxa-challenge.app.acme.com": ["xstaxa-verify-tokx"] },
      {},
      false,
      [false, true],
    ],
  ];
  for (const [name, records, over, ok, [own, point]] of cases) {
    test(name, async () => {
      const v = await checkDns(fakeDns(records), { ...base, ...over });
      expect([v.ok, v.ownership.ok, v.pointing.ok]).toEqual([ok, own, point]);
    });
  }

  test("says what was expected and what was found", async () => {
    const v = await checkDns(fakeDns({ "A app.acme.com": ["198.51.100.2"] }), base);
    expect(v.ownership).toEqual({
      type: "TXT",
      name: "_staxa-challenge.app.acme.com",
      expected: "staxa-verify-tok",
      found: [],
      ok: false,
    });
    expect(v.pointing).toEqual({ type: "A", name: "app.acme.com", expected: "203.0.113.7", found: ["198.51.100.2"], ok: false });
  });

  test("a failing resolver is a finding, never a throw", async () => {
    const v = await checkDns(failing, base);
    expect([v.ok, v.ownership.error, v.pointing.error]).toEqual([
      false,
      "DNS lookup failed: ECONNREFUSED",
      "DNS lookup failed: ETIMEOUT",
    ]);
  });
});

describe("certificate judgement", () => {
  const now = new Date("2026-06-01T00:00:00Z");
  const cert = (o: Partial<Extract<TlsProbe, { ok: true }>> = {}): TlsProbe => ({
    ok: true,
    issuerCn: "Pebble Intermediate CA 0a1b2c",
    subjectCn: "app.acme.com",
    altNames: ["app.acme.com"],
    notBefore: new Date("2026-05-01T00:00:00Z"),
    notAfter: new Date("2026-08-01T00:00:00Z"),
    ...o,
  });
  const acme = "https://acme.example/dir";
  test("a CA-issued certificate for the name is active, with issuer and expiry", () => {
    expect(judgeCertificate(cert(), "app.acme.com", acme, now)).toEqual({
      status: "active",
      issuer: "Pebble Intermediate CA 0a1b2c",
      expiresAt: "2026-08-01T00:00:00Z",
    });
    expect(judgeCertificate(cert({ altNames: ["*.acme.com"] }), "app.acme.com", acme, now).status).toBe("active");
  });
  const absent: Array<[string, TlsProbe, string]> = [
    ["no handshake", { ok: false, reason: "tlsv1 alert internal error" }, acme],
    ["another name", cert({ altNames: ["other.acme.com"] }), acme],
    ["wildcard one level too deep", cert({ altNames: ["*.com"] }), acme],
    ["self-signed", cert({ issuerCn: "app.acme.com" }), acme],
    ["Caddy's local CA while ACME is configured", cert({ issuerCn: "Caddy Local Authority - ECC Intermediate" }), acme],
    ["expired", cert({ notAfter: new Date("2026-05-31T00:00:00Z") }), acme],
  ];
  for (const [name, probe, ca] of absent)
    test(`absent: ${name}`, () => expect(judgeCertificate(probe, "app.acme.com", ca, now).status).toBe("absent"));
  test("Caddy's local CA counts when it is the configured issuer", () => {
    expect(
      judgeCertificate(cert({ issuerCn: "Caddy Local Authority - ECC Intermediate" }), "app.acme.com", "internal", now).status,
    ).toBe("active");
  });

  test("transitions: provisioning waits out the grace, then fails; an active certificate that vanishes fails", () => {
    const gone = { status: "absent" as const, reason: "x" };
    const started = "2026-06-01T00:00:00Z";
    const at = (ms: number) => new Date(Date.parse(started) + ms);
    expect(nextSslStatus({ ssl_status: "provisioning", updated_at: started }, gone, at(60_000))).toBe("provisioning");
    expect(nextSslStatus({ ssl_status: "provisioning", updated_at: started }, gone, at(PROVISION_GRACE_MS + 1))).toBe("failed");
    expect(nextSslStatus({ ssl_status: "active", updated_at: started }, gone, at(1))).toBe("failed");
    expect(
      nextSslStatus({ ssl_status: "failed", updated_at: started }, { status: "active", issuer: "i", expiresAt: started }, at(1)),
    ).toBe("active");
  });
});

/** A tenant with one domain (not verified) over the fakes, with the resolver and the TLS probe in the test's hands. */
async function withDomain() {
  const a = await fakeApp({ STAXA_PUBLIC_IP: "203.0.113.7" });
  const dns = fakeDns();
  let cert: TlsProbe = { ok: false, reason: "no certificate served" };
  let clock = Date.now();
  Object.assign(a.deps, { dns, tlsProbe: async () => cert, now: () => new Date(clock) });
  const tid = (
    await a.call("POST", "/api/v1/tenants", { name: "sched", source_type: "github", repo_url: "https://example.com/a/b.git" })
  ).json.data.id;
  await a.idle();
  const d = (await a.call("POST", `/api/v1/tenants/${tid}/domains`, { domain: "sched.example.com" })).json.data;
  const get = async () => (await a.call("GET", `/api/v1/tenants/${tid}/domains`)).json.data.domains[0];
  return { ...a, dns, tid, d, get, setCert: (c: TlsProbe) => (cert = c), advance: (ms: number) => (clock += ms) };
}

describe("scheduler", () => {
  test("a pending domain whose records appear is verified and routed by the job; the certificate is then read as active", async () => {
    const s = await withDomain();
    await checkPendingDomains(s.deps);
    expect((await s.get()).verified).toBe(false);
    s.dns.records["A sched.example.com"] = ["203.0.113.7"];
    s.dns.records["TXT _staxa-challenge.sched.example.com"] = [s.d.verification.token];
    await checkPendingDomains(s.deps);
    expect(await s.get()).toMatchObject({ verified: true, ssl_status: "provisioning" });
    expect(s.proxy.hasHost("sched.example.com")).toBe(true);
    s.setCert({
      ok: true,
      issuerCn: "Pebble Intermediate CA 1",
      subjectCn: "sched.example.com",
      altNames: ["sched.example.com"],
      notBefore: new Date(),
      notAfter: new Date(Date.now() + 86_400_000),
    });
    await checkPendingDomains(s.deps);
    expect(await s.get()).toMatchObject({ ssl_status: "active", ssl_issuer: "Pebble Intermediate CA 1" });
  });

  test("provisioning that never yields a certificate becomes failed after the grace period", async () => {
    const s = await withDomain();
    s.dns.records["A sched.example.com"] = ["203.0.113.7"];
    s.dns.records["TXT _staxa-challenge.sched.example.com"] = [s.d.verification.token];
    expect((await s.call("POST", `/api/v1/tenants/${s.tid}/domains/${s.d.id}/verify`)).status).toBe(200);
    await refreshSsl(s.deps, s.d.id);
    expect((await s.get()).ssl_status).toBe("provisioning");
    s.advance(PROVISION_GRACE_MS + 1000);
    await checkPendingDomains(s.deps);
    expect((await s.get()).ssl_status).toBe("failed");
    expect(s.deps.bus.recent(s.tid, 50).some((e) => e.stage === "domain" && e.status === "ssl_failed")).toBe(true);
  });

  test("a verified domain whose A record moves away is flagged misconfigured once (event), keeps its route, and clears", async () => {
    const s = await withDomain();
    s.dns.records["A sched.example.com"] = ["203.0.113.7"];
    s.dns.records["TXT _staxa-challenge.sched.example.com"] = [s.d.verification.token];
    await s.call("POST", `/api/v1/tenants/${s.tid}/domains/${s.d.id}/verify`);
    s.dns.records["A sched.example.com"] = ["198.51.100.9"];
    await reverifyDomains(s.deps);
    await reverifyDomains(s.deps);
    expect(await s.get()).toMatchObject({ verified: true, dns_status: "misconfigured" });
    expect(s.proxy.hasHost("sched.example.com")).toBe(true);
    const flagged = s.deps.bus.recent(s.tid, 50).filter((e) => e.stage === "domain" && e.status === "misconfigured");
    expect(flagged).toHaveLength(1);
    expect(flagged[0].message).toContain("expected A sched.example.com = 203.0.113.7, found 198.51.100.9");
    // Removing the TXT after verification is fine: pointing is what must stay true.
    s.dns.records["A sched.example.com"] = ["203.0.113.7"];
    delete s.dns.records["TXT _staxa-challenge.sched.example.com"];
    await reverifyDomains(s.deps);
    expect((await s.get()).dns_status).toBe("ok");
  });

  test("a manual verify of a verified domain whose DNS moved answers 422 and flags it", async () => {
    const s = await withDomain();
    s.dns.records["A sched.example.com"] = ["203.0.113.7"];
    s.dns.records["TXT _staxa-challenge.sched.example.com"] = [s.d.verification.token];
    await s.call("POST", `/api/v1/tenants/${s.tid}/domains/${s.d.id}/verify`);
    s.dns.records["A sched.example.com"] = [];
    const r = await s.call("POST", `/api/v1/tenants/${s.tid}/domains/${s.d.id}/verify`);
    expect(r.status).toBe(422);
    expect(await s.get()).toMatchObject({ verified: true, dns_status: "misconfigured" });
  });
});
