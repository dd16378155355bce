// Network rule routes over the fakes (pipeline, runtime, proxy, firewall): validation, port pool, egress, TTL, hooks.
import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeGit, FakeProxy, FakeRuntime } from "../../support/fakes.ts";
import { FakeFirewall } from "../../support/fake-firewall.ts";
import { testApp } from "../../support/ctx.ts";
import { configureDeployer, idle } from "../../../src/core/deploy/deployer.ts";
import { createKey } from "../../../src/core/identity/keys.ts";
import { ensureProvider } from "../../../src/core/identity/accounts.ts";
import { expireDueRules, reapplyAllNetworkRules } from "../../../src/core/network/rules.ts";
import { parseCidr } from "../../../src/core/network/rule-input.ts";
import { loadConfig } from "../../../src/config.ts";

/** The fake runtime with subnets: the egress firewall needs one per tenant network. */
class NetRuntime extends FakeRuntime {
  async networkSubnet(name: string) {
    return this.networks.has(name) ? "10.9.0.0/16" : undefined;
  }
}

let clock = new Date("2030-01-01T00:00:00Z");

async function netApp(env: Record<string, string> = {}) {
  const runtime = new NetRuntime();
  const proxy = new FakeProxy();
  const firewall = new FakeFirewall();
  const dataDir = mkdtempSync(join(tmpdir(), "staxa-unit-nr-"));
  const app = testApp(
    { runtime, proxy, git: new FakeGit(), firewall, now: () => clock },
    { STAXA_DRAIN_SEC: "0", STAXA_DATA_DIR: dataDir, STAXA_PUBLIC_IP: "203.0.113.10", ...env },
  );
  configureDeployer(app.deps, { probe: runtime.probe, healthTimeoutMs: 300 });
  const tenant = async (name: string, extra: Record<string, unknown> = {}) => {
    const r = await app.call("POST", "/api/v1/tenants", {
      name,
      source_type: "image",
      image_url: "example/app:1",
      app_port: 3000,
      ...extra,
    });
    expect(r.status).toBe(202);
    await idle(app.deps);
    return r.json.data.id as string;
  };
  return { ...app, runtime, firewall, tenant, idle: () => idle(app.deps) };
}

const inbound = (extra: Record<string, unknown> = {}) => ({
  direction: "inbound",
  protocol: "tcp",
  target_service: "web",
  target_port: 5432,
  source_cidrs: ["198.51.100.0/24"],
  ...extra,
});
const outbound = (extra: Record<string, unknown> = {}) => ({
  direction: "outbound",
  protocol: "tcp",
  destination_cidrs: ["10.20.0.0/16"],
  destination_port: 443,
  ...extra,
});
const rulesIn = (db: any) => db.query("SELECT COUNT(*) AS n FROM network_rules").get().n as number;

describe("POST /tenants/{id}/network-rules: inbound", () => {
  test("201 with a pool port, connection string, and a DNAT to the service's container for the allowed sources", async () => {
    const a = await netApp();
    const id = await a.tenant("nr-in");
    const r = await a.call("POST", `/api/v1/tenants/${id}/network-rules`, inbound({ description: "db from office" }));
    expect(r.status).toBe(201);
    const d = r.json.data;
    expect(d).toMatchObject({
      direction: "inbound",
      protocol: "tcp",
      target_service: "web",
      target_port: 5432,
      allocated_port: 30000,
      status: "active",
      connection_string: "203.0.113.10:30000",
      source_cidrs: ["198.51.100.0/24"],
      destination_cidrs: [],
      destination_port: null,
      description: "db from office",
      expires_at: null,
    });
    expect(d.id).toMatch(/^nr_[a-z0-9]{16}$/);
    const ip = a.runtime.running()[0]!.ip;
    expect(a.firewall.inbound.get(d.id)).toEqual({
      id: d.id,
      protocol: "tcp",
      hostPort: 30000,
      targetIp: ip!,
      targetPort: 5432,
      sourceCidrs: ["198.51.100.0/24"],
    });
    expect((await a.call("GET", `/api/v1/tenants/${id}/network-rules/${d.id}`)).json.data).toEqual(d);
  });

  test("the rule follows a redeploy: the new container's IP replaces the old one", async () => {
    const a = await netApp();
    const id = await a.tenant("nr-follow");
    const rule = (await a.call("POST", `/api/v1/tenants/${id}/network-rules`, inbound())).json.data;
    const before = a.firewall.inbound.get(rule.id)!.targetIp;
    expect((await a.call("POST", `/api/v1/tenants/${id}/deploy`)).status).toBe(202);
    await a.idle();
    const after = a.firewall.inbound.get(rule.id)!.targetIp;
    expect(after).not.toBe(before);
    expect(a.runtime.running().map((c) => c.ip)).toEqual([after]);
  });

  test("pool of 3: the 4th inbound rule is 409, a delete frees its port at once", async () => {
    const a = await netApp({ STAXA_PORT_POOL: "31000-31002" });
    const id = await a.tenant("nr-pool");
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await a.call("POST", `/api/v1/tenants/${id}/network-rules`, inbound())).json.data);
    expect(made.map((r) => r.allocated_port)).toEqual([31000, 31001, 31002]);
    const full = await a.call("POST", `/api/v1/tenants/${id}/network-rules`, inbound());
    expect(full.status).toBe(409);
    expect(full.json.error.code).toBe("port_pool_exhausted");
    expect(rulesIn(a.ctx.db)).toBe(3);
    const del = await a.call("DELETE", `/api/v1/tenants/${id}/network-rules/${made[1].id}`);
    expect(del.status).toBe(204);
    expect(a.firewall.inbound.has(made[1].id)).toBe(false);
    expect((await a.call("GET", `/api/v1/tenants/${id}/network-rules/${made[1].id}`)).status).toBe(404);
    const again = await a.call("POST", `/api/v1/tenants/${id}/network-rules`, inbound());
    expect(again.status).toBe(201);
    expect(again.json.data.allocated_port).toBe(31001);
  });

  test("20 concurrent creates never share a port", async () => {
    const a = await netApp({ STAXA_NETWORK_RULE_LIMIT: "100" });
    const ids = [await a.tenant("nr-race-a"), await a.tenant("nr-race-b")];
    const res = await Promise.all(
      Array.from({ length: 20 }, (_, i) => a.call("POST", `/api/v1/tenants/${ids[i % 2]}/network-rules`, inbound())),
    );
    expect(res.map((r) => r.status)).toEqual(Array(20).fill(201));
    const ports = res.map((r) => r.json.data.allocated_port);
    expect(new Set(ports).size).toBe(20);
    expect(new Set([...a.firewall.inbound.values()].map((r) => r.hostPort)).size).toBe(20);
  });

  test("a firewall failure is 502 and leaves nothing stored, nothing open", async () => {
    const a = await netApp();
    const id = await a.tenant("nr-fwfail");
    a.firewall.failOn = (c) => c.startsWith("addInbound");
    const r = await a.call("POST", `/api/v1/tenants/${id}/network-rules`, inbound());
    expect(r.status).toBe(502);
    expect(rulesIn(a.ctx.db)).toBe(0);
    expect(a.firewall.inbound.size).toBe(0);
  });

  test("rule limit per tenant → 422 (STAXA_NETWORK_RULE_LIMIT)", async () => {
    const a = await netApp({ STAXA_NETWORK_RULE_LIMIT: "2" });
    const id = await a.tenant("nr-limit");
    for (let i = 0; i < 2; i++) expect((await a.call("POST", `/api/v1/tenants/${id}/network-rules`, inbound())).status).toBe(201);
    const r = await a.call("POST", `/api/v1/tenants/${id}/network-rules`, inbound());
    expect(r.status).toBe(422);
    expect(r.json.error.code).toBe("network_rule_limit_reached");
    expect(rulesIn(a.ctx.db)).toBe(2);
  });
});

describe("validation: 4xx, no firewall change, nothing stored", () => {
  const bad: Array<[string, Record<string, unknown>, number, string]> = [
    ["0.0.0.0/0 (too wide)", inbound({ source_cidrs: ["0.0.0.0/0"] }), 400, "source_cidrs"],
    ["/7 (too wide)", inbound({ source_cidrs: ["10.0.0.0/7"] }), 400, "source_cidrs"],
    ["::/0 (too wide)", inbound({ source_cidrs: ["::/0"] }), 400, "source_cidrs"],
    ["10.0.0.0/33", inbound({ source_cidrs: ["10.0.0.0/33"] }), 400, "source_cidrs"],
    ["999.1.1.1/8", inbound({ source_cidrs: ["999.1.1.1/8"] }), 400, "source_cidrs"],
    ["abc", inbound({ source_cidrs: ["abc"] }), 400, "source_cidrs"],
    ["2001:db8::/129", inbound({ source_cidrs: ["2001:db8::/129"] }), 400, "source_cidrs"],
    ["2001:db8:::1/64", inbound({ source_cidrs: ["2001:db8:::1/64"] }), 400, "source_cidrs"],
    ["host bits set", inbound({ source_cidrs: ["10.1.2.3/16"] }), 400, "source_cidrs"],
    ["cidr not a string", inbound({ source_cidrs: [42] }), 400, "source_cidrs"],
    [
      "1,000 CIDRs",
      inbound({ source_cidrs: Array.from({ length: 1000 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`) }),
      400,
      "source_cidrs",
    ],
    ["21 CIDRs", inbound({ source_cidrs: Array.from({ length: 21 }, (_, i) => `10.0.${i}.0/24`) }), 400, "source_cidrs"],
    ["empty source_cidrs", inbound({ source_cidrs: [] }), 400, "source_cidrs"],
    ["port 0", inbound({ target_port: 0 }), 400, "target_port"],
    ["port 70000", inbound({ target_port: 70000 }), 400, "target_port"],
    ["port 80.5", inbound({ target_port: 80.5 }), 400, "target_port"],
    ["port as string", inbound({ target_port: "80;id" }), 400, "target_port"],
    ["protocol icmp", inbound({ protocol: "icmp" }), 400, "protocol"],
    ["no protocol", inbound({ protocol: undefined }), 400, "protocol"],
    ["direction sideways", inbound({ direction: "sideways" }), 400, "direction"],
    ["inbound without target_service", inbound({ target_service: undefined }), 400, "target_service"],
    ["inbound without target_port", inbound({ target_port: undefined }), 400, "target_port"],
    ["inbound without source_cidrs", inbound({ source_cidrs: undefined }), 400, "source_cidrs"],
    ["inbound with destination_cidrs", inbound({ destination_cidrs: ["10.0.0.0/8"] }), 400, "destination_cidrs"],
    ["target_service bad name", inbound({ target_service: "../x" }), 400, "target_service"],
    ["target_service unknown", inbound({ target_service: "db" }), 400, "target_service"],
    ["ttl_hours 0", inbound({ ttl_hours: 0 }), 400, "ttl_hours"],
    ["ttl_hours 8761", inbound({ ttl_hours: 8761 }), 400, "ttl_hours"],
    ["description newline", inbound({ description: "a\nb" }), 400, "description"],
    ["unknown field", inbound({ privileged: true }), 400, "privileged"],
    ["outbound without destination_cidrs", outbound({ destination_cidrs: undefined }), 400, "destination_cidrs"],
    ["outbound without destination_port", outbound({ destination_port: undefined }), 400, "destination_port"],
    ["outbound port 0", outbound({ destination_port: 0 }), 400, "destination_port"],
    ["outbound 0.0.0.0/0", outbound({ destination_cidrs: ["0.0.0.0/0"] }), 400, "destination_cidrs"],
    ["outbound on an open-egress tenant", outbound(), 422, "direction"],
  ];
  test.each(bad.map(([name, body, status, field]) => [name, status, field, body] as const))(
    "%s → %i naming %s",
    async (_name, status, field, body) => {
      const a = await netApp();
      const id = await a.tenant("nr-bad");
      const before = a.firewall.snapshot();
      const calls = a.firewall.calls.length;
      const r = await a.call("POST", `/api/v1/tenants/${id}/network-rules`, body);
      expect(r.status).toBe(status);
      expect(r.json.error.details.field).toBe(field);
      if (status === 422) expect(r.json.error.code).toBe("egress_not_restricted");
      expect(rulesIn(a.ctx.db)).toBe(0);
      expect(a.firewall.snapshot()).toBe(before);
      expect(a.firewall.calls.length).toBe(calls);
    },
  );

  test.each([
    ["10.0.0.0/8", "10.0.0.0/8"],
    ["192.168.1.7", "192.168.1.7/32"],
    [" 203.0.113.0/24", "203.0.113.0/24"],
    ["2001:DB8::/32", "2001:db8::/32"],
    ["2001:db8:0:0:1::/80", "2001:db8:0:0:1::/80"],
    ["fe80::1", "fe80::1/128"],
  ])("parseCidr(%p) = %p", (raw, want) => {
    expect(parseCidr(raw, "f")).toBe(want);
  });
});

describe("outbound rules and egress mode", () => {
  test("restricted tenant: egress policy holds DNS-free allow-list of its rules; PATCH to open removes it without a redeploy", async () => {
    const a = await netApp();
    const id = await a.tenant("nr-out", { egress_mode: "restricted" });
    // Provisioning restricted the network before the container started.
    expect(a.firewall.egress.get(`egress-${id}`)).toEqual({ id: `egress-${id}`, subnet: "10.9.0.0/16", allow: [] });
    const r = await a.call(
      "POST",
      `/api/v1/tenants/${id}/network-rules`,
      outbound({ destination_cidrs: ["10.20.0.0/16", "192.0.2.5/32"], protocol: "udp", destination_port: 53 }),
    );
    expect(r.status).toBe(201);
    expect(r.json.data).toMatchObject({ allocated_port: null, connection_string: null, destination_port: 53 });
    expect(a.firewall.egress.get(`egress-${id}`)!.allow).toEqual([
      { cidr: "10.20.0.0/16", port: 53, protocol: "udp" },
      { cidr: "192.0.2.5/32", port: 53, protocol: "udp" },
    ]);
    const deploys = a.runtime.running().length + a.runtime.removed.length;
    const p = await a.call("PATCH", `/api/v1/tenants/${id}`, { egress_mode: "open" });
    expect(p.status).toBe(200);
    expect(p.json.meta.effect).toBe("none");
    await Bun.sleep(10);
    expect(a.firewall.egress.has(`egress-${id}`)).toBe(false);
    await a.call("PATCH", `/api/v1/tenants/${id}`, { egress_mode: "restricted" });
    await Bun.sleep(10);
    expect(a.firewall.egress.get(`egress-${id}`)!.allow).toHaveLength(2);
    expect(a.runtime.running().length + a.runtime.removed.length).toBe(deploys);
    await a.call("DELETE", `/api/v1/tenants/${id}/network-rules/${r.json.data.id}`);
    expect(a.firewall.egress.get(`egress-${id}`)!.allow).toEqual([]);
  });
});

describe("list, get, delete, foreign tenants", () => {
  test("list filters by direction and status (default active; all)", async () => {
    const a = await netApp();
    const id = await a.tenant("nr-list", { egress_mode: "restricted" });
    const i1 = (await a.call("POST", `/api/v1/tenants/${id}/network-rules`, inbound({ ttl_hours: 1 }))).json.data;
    const o1 = (await a.call("POST", `/api/v1/tenants/${id}/network-rules`, outbound())).json.data;
    const ids = async (q: string) =>
      (await a.call("GET", `/api/v1/tenants/${id}/network-rules${q}`)).json.data.map((r: any) => r.id);
    expect(await ids("")).toEqual([i1.id, o1.id]);
    expect(await ids("?direction=outbound")).toEqual([o1.id]);
    clock = new Date(clock.getTime() + 2 * 3_600_000);
    await expireDueRules(a.ctx);
    expect(await ids("")).toEqual([o1.id]);
    expect(await ids("?status=expired")).toEqual([i1.id]);
    expect(await ids("?status=all")).toEqual([i1.id, o1.id]);
    expect((await a.call("GET", `/api/v1/tenants/${id}/network-rules?status=gone`)).status).toBe(400);
    expect((await a.call("GET", `/api/v1/tenants/${id}/network-rules?direction=up`)).json.error.details.field).toBe("direction");
  });

  test("another provider's tenant and rule are 404; a test key does not see live rules", async () => {
    const a = await netApp();
    const id = await a.tenant("nr-foreign");
    const rule = (await a.call("POST", `/api/v1/tenants/${id}/network-rules`, inbound())).json.data;
    const { provider } = ensureProvider(a.ctx.db, { email: "other@example.com", name: "Other" });
    const other = createKey(a.ctx.db, { providerId: provider.id, name: "o", mode: "live", scopes: ["*"], expiresAt: null }).raw;
    const testKey = createKey(a.ctx.db, {
      providerId: a.provider.id,
      name: "t",
      mode: "test",
      scopes: ["*"],
      expiresAt: null,
    }).raw;
    for (const key of [other, testKey]) {
      const h = { authorization: `Bearer ${key}` };
      expect((await a.call("GET", `/api/v1/tenants/${id}/network-rules`, undefined, h)).status).toBe(404);
      expect((await a.call("GET", `/api/v1/tenants/${id}/network-rules/${rule.id}`, undefined, h)).status).toBe(404);
      expect((await a.call("DELETE", `/api/v1/tenants/${id}/network-rules/${rule.id}`, undefined, h)).status).toBe(404);
      expect((await a.call("POST", `/api/v1/tenants/${id}/network-rules`, inbound(), h)).status).toBe(404);
    }
    expect(a.firewall.inbound.has(rule.id)).toBe(true);
  });

  test("scopes: network:read lists, cannot create; network:write creates", async () => {
    const a = await netApp();
    const id = await a.tenant("nr-scope");
    const key = (scopes: string[]) => ({
      authorization: `Bearer ${createKey(a.ctx.db, { providerId: a.provider.id, name: "s", mode: "live", scopes, expiresAt: null }).raw}`,
    });
    const ro = key(["network:read"]);
    expect((await a.call("GET", `/api/v1/tenants/${id}/network-rules`, undefined, ro)).status).toBe(200);
    expect((await a.call("POST", `/api/v1/tenants/${id}/network-rules`, inbound(), ro)).status).toBe(403);
    expect((await a.call("GET", `/api/v1/tenants/${id}/network-rules`, undefined, key(["tenants:read"]))).status).toBe(403);
    expect((await a.call("POST", `/api/v1/tenants/${id}/network-rules`, inbound(), key(["network:write"]))).status).toBe(201);
  });
});

describe("TTL expiry, start-up re-application, tenant deletion", () => {
  test("an advanced clock expires the rule: status expired, firewall rule removed, port free, an event", async () => {
    const a = await netApp({ STAXA_PORT_POOL: "31000-31000" });
    const id = await a.tenant("nr-ttl");
    const r = (await a.call("POST", `/api/v1/tenants/${id}/network-rules`, inbound({ ttl_hours: 2 }))).json.data;
    expect(r.expires_at).toBe(new Date(clock.getTime() + 2 * 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z"));
    clock = new Date(clock.getTime() + 3_600_000);
    expect(await expireDueRules(a.ctx)).toEqual([]);
    expect(a.firewall.inbound.has(r.id)).toBe(true);
    clock = new Date(clock.getTime() + 3_600_000);
    expect(await expireDueRules(a.ctx)).toEqual([r.id]);
    const g = (await a.call("GET", `/api/v1/tenants/${id}/network-rules/${r.id}`)).json.data;
    expect(g).toMatchObject({ status: "expired", connection_string: null });
    expect(a.firewall.inbound.has(r.id)).toBe(false);
    const ev = a.ctx.db.query("SELECT stage, data FROM events WHERE tenant_id = ? AND stage = 'network'").all(id) as any[];
    expect(ev.map((e) => JSON.parse(e.data).rule_id)).toEqual([r.id]);
    expect((await a.call("POST", `/api/v1/tenants/${id}/network-rules`, inbound())).json.data.allocated_port).toBe(31000);
  });

  test("an expiry the firewall refuses stays active and is retried", async () => {
    const a = await netApp();
    const id = await a.tenant("nr-ttl-retry");
    const r = (await a.call("POST", `/api/v1/tenants/${id}/network-rules`, inbound({ ttl_hours: 1 }))).json.data;
    clock = new Date(clock.getTime() + 2 * 3_600_000);
    a.firewall.failOn = (c) => c === `remove ${r.id}`;
    expect(await expireDueRules(a.ctx)).toEqual([]);
    expect((await a.call("GET", `/api/v1/tenants/${id}/network-rules/${r.id}`)).json.data.status).toBe("active");
    a.firewall.failOn = undefined;
    expect(await expireDueRules(a.ctx)).toEqual([r.id]);
  });

  test("start-up re-applies chains, host guard, egress and ports from the store after the firewall was wiped", async () => {
    const a = await netApp({ STAXA_PORT: "18080", STAXA_CADDY_ADMIN_URL: "http://127.0.0.1:12019" });
    const id = await a.tenant("nr-boot", { egress_mode: "restricted" });
    const i1 = (await a.call("POST", `/api/v1/tenants/${id}/network-rules`, inbound())).json.data;
    await a.call("POST", `/api/v1/tenants/${id}/network-rules`, outbound());
    const want = a.firewall.snapshot();
    const fresh = new FakeFirewall(); // a reboot: nothing in iptables
    a.ctx.firewall = fresh;
    await reapplyAllNetworkRules(a.ctx);
    expect(fresh.setups).toBe(1);
    expect([...fresh.guarded].sort()).toEqual([12019, 18080]);
    expect(fresh.snapshot()).toBe(want);
    expect(fresh.inbound.has(i1.id)).toBe(true);
  });

  test("deleting the tenant removes its ports and egress policy from the firewall", async () => {
    const a = await netApp();
    const id = await a.tenant("nr-gone", { egress_mode: "restricted" });
    const i1 = (await a.call("POST", `/api/v1/tenants/${id}/network-rules`, inbound())).json.data;
    expect((await a.call("DELETE", `/api/v1/tenants/${id}`)).status).toBe(202);
    await a.idle();
    expect(a.firewall.inbound.has(i1.id)).toBe(false);
    expect(a.firewall.egress.has(`egress-${id}`)).toBe(false);
    expect(rulesIn(a.ctx.db)).toBe(0);
  });

  test("STAXA_NETWORK_RULE_LIMIT defaults to 20", () => {
    expect(loadConfig({}).networkRuleLimit).toBe(20);
  });
});

describe("never fail-open", () => {
  test("a restricted tenant whose egress cannot be enforced fails provisioning; no container starts", async () => {
    const a = await netApp();
    a.firewall.failOn = (c) => c.startsWith("setEgress");
    const r = await a.call("POST", "/api/v1/tenants", {
      name: "nr-failclosed",
      source_type: "image",
      image_url: "example/app:1",
      app_port: 3000,
      egress_mode: "restricted",
    });
    await a.idle();
    const t = (await a.call("GET", `/api/v1/tenants/${r.json.data.id}`)).json.data;
    expect(t.status).toBe("failed");
    expect(t.deployments[0].status).toBe("failed");
    expect(a.runtime.running()).toEqual([]);
  });

  test("an open tenant deploys even when the firewall is unavailable (logged, nothing to enforce)", async () => {
    const a = await netApp();
    a.firewall.failOn = () => true;
    const id = await a.tenant("nr-open-nofw");
    expect((await a.call("GET", `/api/v1/tenants/${id}`)).json.data.status).toBe("ready");
  });
});
