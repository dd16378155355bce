// Domain routes over the fakes: add/list/verify/delete, the route and tenant url they change, 400s with nothing stored, 404/409/422.
import { describe, expect, test } from "bun:test";
import { fakeApp } from "../../support/fakes.ts";
import { fakeDns } from "../../support/dns.ts";
import type { TlsProbe } from "../../../src/proxy/tls-probe.ts";
import { createKey } from "../../../src/core/identity/keys.ts";
import { ensureProvider } from "../../../src/core/identity/accounts.ts";

const count = (db: any) => db.query("SELECT COUNT(*) AS n FROM domains").get().n as number;

async function setup(env: Record<string, string> = {}) {
  const a = await fakeApp({ STAXA_PUBLIC_IP: "203.0.113.7", ...env });
  const dns = fakeDns();
  const probes: string[] = [];
  let cert: TlsProbe = { ok: false, reason: "connection refused" };
  Object.assign(a.deps, { dns, tlsProbe: async (o: { servername: string }) => (probes.push(o.servername), cert) });
  const r = await a.call("POST", "/api/v1/tenants", {
    name: "acme",
    source_type: "github",
    repo_url: "https://example.com/acme/app.git",
  });
  await a.idle();
  const tid = r.json.data.id as string;
  const add = (body: unknown) => a.call("POST", `/api/v1/tenants/${tid}/domains`, body);
  return { ...a, dns, tid, add, probes, setCert: (c: TlsProbe) => (cert = c) };
}

const pebbleCert = (domain: string): TlsProbe => ({
  ok: true,
  issuerCn: "Pebble Intermediate CA 1a2b3c",
  subjectCn: domain,
  altNames: [domain],
  notBefore: new Date(Date.now() - 1000),
  notAfter: new Date(Date.now() + 86400_000 * 90),
});

describe("add and list", () => {
  test("201 with the records to create; list answers {domains, server_ip} as the reference", async () => {
    const a = await setup();
    const r = await a.add({ domain: "App.Acme.com", is_primary: true });
    expect(r.status).toBe(201);
    const d = r.json.data;
    expect(d).toMatchObject({
      domain: "app.acme.com",
      is_primary: true,
      verified: false,
      ssl_status: "pending",
      service_id: null,
    });
    expect(d.id).toMatch(/^dom_[a-z0-9]{16}$/);
    expect(d.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(d.verification).toMatchObject({ type: "TXT", name: "_staxa-challenge.app.acme.com", value: d.verification.token });
    expect(d.verification.token).toMatch(/^staxa-verify-[a-z0-9]{32}$/);
    expect(d.verification.pointing).toEqual([
      { type: "A", name: "app.acme.com", value: "203.0.113.7" },
      { type: "CNAME", name: "app.acme.com", value: "acme.staxa.test" },
    ]);
    const l = await a.call("GET", `/api/v1/tenants/${a.tid}/domains`);
    expect(l.status).toBe(200);
    expect(l.json.data.server_ip).toBe("203.0.113.7");
    expect(l.json.data.domains.map((x: any) => x.id)).toEqual([d.id]);
    // Not verified: not routed, and the tenant url is still its own host.
    expect(a.proxy.routes.get("acme.web")!.hosts).toEqual(["acme.staxa.test"]);
    const t = (await a.call("GET", `/api/v1/tenants/${a.tid}`)).json.data;
    expect(t.url).toBe("https://acme.staxa.test");
    expect(t.domains.map((x: any) => x.domain)).toEqual(["app.acme.com"]);
  });

  test("bad input: 400 naming the field, nothing stored", async () => {
    const a = await setup();
    const cases: Array<[unknown, string]> = [
      [{ domain: "localhost" }, "domain"],
      [{ domain: "1.2.3.4" }, "domain"],
      [{ domain: "*.example.com" }, "domain"],
      [{ domain: "exa mple.com" }, "domain"],
      [{ domain: `${"a".repeat(296)}.com` }, "domain"],
      [{ domain: "xn--garbage.com" }, "domain"],
      [{ domain: "staxa.test" }, "domain"],
      [{ domain: "acme.staxa.test" }, "domain"],
      [{ domain: "other.staxa.test" }, "domain"],
      [{}, "domain"],
      [{ domain: "ok.example.com", is_primary: "yes" }, "is_primary"],
      [{ domain: "ok.example.com", service_id: "nope" }, "service_id"],
      [{ domain: "ok.example.com", service_id: 7 }, "service_id"],
      ["[1]", "body"],
    ];
    for (const [body, field] of cases) {
      const r = await a.add(body);
      expect([JSON.stringify(body).slice(0, 40), r.status, r.json.error.details.field]).toEqual([
        JSON.stringify(body).slice(0, 40),
        400,
        field,
      ]);
    }
    expect(count(a.deps.db)).toBe(0);
  });

  test("a tenant claims a name once (409 domain_taken, nothing stored); another provider's add of an unverified name is a claim of its own", async () => {
    const a = await setup();
    expect((await a.add({ domain: "shop.example.com" })).status).toBe(201);
    const again = await a.add({ domain: "SHOP.example.com." });
    expect([again.status, again.json.error.code, again.json.error.details.field]).toEqual([409, "domain_taken", "domain"]);
    expect(count(a.deps.db)).toBe(1);
    const { provider } = ensureProvider(a.deps.db, { email: "other@example.com", name: "Other" });
    const key = createKey(a.deps.db, { providerId: provider.id, name: "o", mode: "live", scopes: ["*"], expiresAt: null }).raw;
    const o = await a.call(
      "POST",
      "/api/v1/tenants",
      { name: "other", source_type: "github", repo_url: "https://example.com/o/app.git" },
      { authorization: `Bearer ${key}` },
    );
    const r = await a.call(
      "POST",
      `/api/v1/tenants/${o.json.data.id}/domains`,
      { domain: "shop.example.com" },
      { authorization: `Bearer ${key}` },
    );
    expect(r.status).toBe(201);
    expect(r.json.data).toMatchObject({ verified: false, claim_status: "conflicting", conflict: "claimed_elsewhere" });
    expect(count(a.deps.db)).toBe(2);
    await a.idle();
  });

  test("another provider's tenant and domain ids answer 404; a test key does not see live domains", async () => {
    const a = await setup();
    const d = (await a.add({ domain: "mine.example.com" })).json.data;
    const { provider } = ensureProvider(a.deps.db, { email: "x@example.com", name: "X" });
    const other = createKey(a.deps.db, { providerId: provider.id, name: "x", mode: "live", scopes: ["*"], expiresAt: null }).raw;
    const testKey = createKey(a.deps.db, {
      providerId: a.provider.id,
      name: "t",
      mode: "test",
      scopes: ["*"],
      expiresAt: null,
    }).raw;
    for (const key of [other, testKey]) {
      const h = { authorization: `Bearer ${key}` };
      expect((await a.call("GET", `/api/v1/tenants/${a.tid}/domains`, undefined, h)).status).toBe(404);
      expect((await a.call("POST", `/api/v1/tenants/${a.tid}/domains`, { domain: "x.example.com" }, h)).status).toBe(404);
      expect((await a.call("POST", `/api/v1/tenants/${a.tid}/domains/${d.id}/verify`, undefined, h)).status).toBe(404);
      expect((await a.call("DELETE", `/api/v1/tenants/${a.tid}/domains/${d.id}`, undefined, h)).status).toBe(404);
    }
    expect((await a.call("POST", `/api/v1/tenants/${a.tid}/domains/dom_doesnotexist0000/verify`)).status).toBe(404);
    expect(count(a.deps.db)).toBe(1);
  });

  test("scopes: domains:read may list but not add; domains:write may both", async () => {
    const a = await setup();
    const ro = createKey(a.deps.db, {
      providerId: a.provider.id,
      name: "ro",
      mode: "live",
      scopes: ["domains:read"],
      expiresAt: null,
    }).raw;
    const h = { authorization: `Bearer ${ro}` };
    expect((await a.call("GET", `/api/v1/tenants/${a.tid}/domains`, undefined, h)).status).toBe(200);
    expect((await a.call("POST", `/api/v1/tenants/${a.tid}/domains`, { domain: "ro.example.com" }, h)).status).toBe(403);
    const none = createKey(a.deps.db, {
      providerId: a.provider.id,
      name: "n",
      mode: "live",
      scopes: ["tenants:read"],
      expiresAt: null,
    }).raw;
    expect((await a.call("GET", `/api/v1/tenants/${a.tid}/domains`, undefined, { authorization: `Bearer ${none}` })).status).toBe(
      403,
    );
  });
});

describe("verify", () => {
  test("422 naming the missing records; then A + TXT: verified, routed with TLS, provisioning, primary url", async () => {
    const a = await setup();
    const d = (await a.add({ domain: "app.acme.com", is_primary: true })).json.data;
    const v1 = await a.call("POST", `/api/v1/tenants/${a.tid}/domains/${d.id}/verify`);
    expect([v1.status, v1.json.error.code]).toEqual([422, "dns_verification_failed"]);
    expect(v1.json.error.message).toContain(
      `expected TXT _staxa-challenge.app.acme.com = ${d.verification.token}, found no such record`,
    );
    expect(v1.json.error.message).toContain("expected A app.acme.com = 203.0.113.7");
    expect(v1.json.error.details.records.map((r: any) => [r.type, r.ok])).toEqual([
      ["TXT", false],
      ["A", false],
    ]);

    a.dns.records["A app.acme.com"] = ["198.51.100.1"];
    a.dns.records["TXT _staxa-challenge.app.acme.com"] = ["other", d.verification.token];
    const v2 = await a.call("POST", `/api/v1/tenants/${a.tid}/domains/${d.id}/verify`);
    expect(v2.status).toBe(422);
    expect(v2.json.error.message).toContain("expected A app.acme.com = 203.0.113.7, found 198.51.100.1");
    expect(v2.json.error.message).not.toContain("expected TXT");

    a.dns.records["A app.acme.com"] = ["203.0.113.7"];
    const v3 = await a.call("POST", `/api/v1/tenants/${a.tid}/domains/${d.id}/verify`);
    expect(v3.status).toBe(200);
    expect(v3.json.data).toMatchObject({
      id: d.id,
      domain: "app.acme.com",
      verified: true,
      ssl_status: "provisioning",
      dns_status: "ok",
    });
    expect(a.proxy.routes.get("acme.web")).toMatchObject({ hosts: ["acme.staxa.test", "app.acme.com"], tls: true });
    expect(a.proxy.hasHost("app.acme.com")).toBe(true);
    expect((await a.call("GET", `/api/v1/tenants/${a.tid}`)).json.data.url).toBe("https://app.acme.com");
    expect((await a.call("GET", "/api/v1/tenants")).json.data[0].url).toBe("https://app.acme.com");
    // The certificate is judged from what is served: the watcher probed with SNI = the domain.
    await Bun.sleep(20);
    expect(a.probes).toContain("app.acme.com");
  });

  test("a CNAME to the tenant's host also points; a redeploy keeps the verified domain on the route", async () => {
    const a = await setup();
    const d = (await a.add({ domain: "www.acme.com" })).json.data;
    a.dns.records["CNAME www.acme.com"] = ["acme.staxa.test."];
    a.dns.records["TXT _staxa-challenge.www.acme.com"] = [d.verification.token];
    expect((await a.call("POST", `/api/v1/tenants/${a.tid}/domains/${d.id}/verify`)).status).toBe(200);
    expect((await a.call("POST", `/api/v1/tenants/${a.tid}/deploy`)).status).toBe(202);
    await a.idle();
    expect(a.proxy.routes.get("acme.web")!.hosts).toEqual(["acme.staxa.test", "www.acme.com"]);
  });

  test("the token must be this domain's: a TXT with another token fails", async () => {
    const a = await setup();
    const d = (await a.add({ domain: "x.acme.com" })).json.data;
    a.dns.records["A x.acme.com"] = ["203.0.113.7"];
    a.dns.records["TXT _staxa-challenge.x.acme.com"] = ["staxa-verify-someoneelse"];
    const r = await a.call("POST", `/api/v1/tenants/${a.tid}/domains/${d.id}/verify`);
    expect(r.status).toBe(422);
    expect(r.json.error.details.records[0]).toMatchObject({ type: "TXT", ok: false, found: ["staxa-verify-someoneelse"] });
  });

  test("service_id routes the domain to that service (by name or id); a service that serves no HTTP is refused", async () => {
    const a = await fakeApp({ STAXA_PUBLIC_IP: "203.0.113.7" });
    const dns = fakeDns();
    Object.assign(a.deps, { dns, tlsProbe: async () => ({ ok: false, reason: "x" }) });
    const r = await a.call("POST", "/api/v1/tenants", {
      name: "multi",
      services: [
        { name: "web", source_type: "image", image_url: "web:1", is_routable: true, is_primary: true },
        { name: "api", source_type: "image", image_url: "api:1", is_routable: true, port: 8080 },
        { name: "db", source_type: "image", image_url: "db:1" },
      ],
    });
    expect(r.status).toBe(202);
    await a.idle();
    const tid = r.json.data.id;
    expect(
      (await a.call("POST", `/api/v1/tenants/${tid}/domains`, { domain: "db.example.com", service_id: "db" })).json.error.details
        .field,
    ).toBe("service_id");
    const apiSvc = (await a.call("GET", `/api/v1/tenants/${tid}/services`)).json.data.find((s: any) => s.name === "api");
    const d = (await a.call("POST", `/api/v1/tenants/${tid}/domains`, { domain: "api.example.com", service_id: apiSvc.id })).json
      .data;
    expect(d.service_id).toBe("api");
    expect(d.verification.pointing[1].value).toBe("api-multi.staxa.test");
    dns.records["A api.example.com"] = ["203.0.113.7"];
    dns.records["TXT _staxa-challenge.api.example.com"] = [d.verification.token];
    expect((await a.call("POST", `/api/v1/tenants/${tid}/domains/${d.id}/verify`)).status).toBe(200);
    expect(a.proxy.routes.get("multi.api")!.hosts).toEqual(["api-multi.staxa.test", "api.example.com"]);
    expect(a.proxy.routes.get("multi.web")!.hosts).toEqual(["multi.staxa.test"]);
  });
});

describe("delete", () => {
  test("204; the route no longer has the host; the name can be added again", async () => {
    const a = await setup();
    const d = (await a.add({ domain: "gone.acme.com" })).json.data;
    a.dns.records["A gone.acme.com"] = ["203.0.113.7"];
    a.dns.records["TXT _staxa-challenge.gone.acme.com"] = [d.verification.token];
    await a.call("POST", `/api/v1/tenants/${a.tid}/domains/${d.id}/verify`);
    expect(a.proxy.hasHost("gone.acme.com")).toBe(true);
    const r = await a.call("DELETE", `/api/v1/tenants/${a.tid}/domains/${d.id}`);
    expect([r.status, r.text]).toEqual([204, ""]);
    expect(a.proxy.hasHost("gone.acme.com")).toBe(false);
    expect(a.proxy.routes.get("acme.web")!.hosts).toEqual(["acme.staxa.test"]);
    expect(count(a.deps.db)).toBe(0);
    expect((await a.call("DELETE", `/api/v1/tenants/${a.tid}/domains/${d.id}`)).status).toBe(404);
    expect((await a.add({ domain: "gone.acme.com" })).status).toBe(201);
  });
});
