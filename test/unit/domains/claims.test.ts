// Domain claims: pending until verified, the first tenant to verify owns the name, and a claim nobody proved never
// blocks the one who can prove it (issue 19 point 6). Over the fakes, with an in-memory resolver.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { fakeApp } from "../../support/fakes.ts";
import { fakeDns } from "../../support/dns.ts";
import { createKey } from "../../../src/core/identity/keys.ts";
import { ensureProvider } from "../../../src/core/identity/accounts.ts";
import { checkPendingDomains } from "../../../src/scheduler/domains-job.ts";
import { migrate } from "../../../src/store/db.ts";
import { MIGRATIONS } from "../../../src/store/migrations/index.ts";

async function twoProviders() {
  const a = await fakeApp({ STAXA_PUBLIC_IP: "203.0.113.7" });
  const dns = fakeDns();
  Object.assign(a.deps, { dns, tlsProbe: async () => ({ ok: false, reason: "connection refused" }) });
  const tenantOf = async (name: string, auth?: Record<string, string>) => {
    const r = await a.call(
      "POST",
      "/api/v1/tenants",
      { name, source_type: "github", repo_url: `https://example.com/${name}/app.git` },
      auth,
    );
    expect(r.status).toBe(202);
    return r.json.data.id as string;
  };
  const keyOf = (email: string) => {
    const { provider } = ensureProvider(a.deps.db, { email, name: null });
    return {
      authorization: `Bearer ${createKey(a.deps.db, { providerId: provider.id, name: "k", mode: "live", scopes: ["*"], expiresAt: null }).raw}`,
    };
  };
  const owner = { tid: await tenantOf("bank") };
  const squatterAuth = keyOf("squatter@example.com");
  const squatter = { tid: await tenantOf("squat", squatterAuth), auth: squatterAuth };
  await a.idle();
  const add = (tid: string, domain: string, auth?: Record<string, string>) =>
    a.call("POST", `/api/v1/tenants/${tid}/domains`, { domain }, auth);
  const verify = (tid: string, id: string, auth?: Record<string, string>) =>
    a.call("POST", `/api/v1/tenants/${tid}/domains/${id}/verify`, undefined, auth);
  const list = async (tid: string, auth?: Record<string, string>) =>
    (await a.call("GET", `/api/v1/tenants/${tid}/domains`, undefined, auth)).json.data.domains;
  return { ...a, dns, owner, squatter, keyOf, tenantOf, add, verify, list };
}

describe("domain claims", () => {
  test("another provider's unverified claim never blocks: the owner adds and verifies; the pending claim shows conflicting and its verify is 409", async () => {
    const a = await twoProviders();
    // The squatter claims the name first, proving nothing.
    const early = await a.add(a.squatter.tid, "bank.example", a.squatter.auth);
    expect(early.status).toBe(201);
    expect(early.json.data).toMatchObject({ verified: false, claim_status: "pending", conflict: null });
    // The real owner's add succeeds; both claims now show the conflict.
    const mine = await a.add(a.owner.tid, "bank.example");
    expect(mine.status).toBe(201);
    expect(mine.json.data).toMatchObject({ verified: false, claim_status: "conflicting", conflict: "claimed_elsewhere" });
    expect((await a.list(a.squatter.tid, a.squatter.auth))[0]).toMatchObject({
      claim_status: "conflicting",
      conflict: "claimed_elsewhere",
    });
    // The owner controls DNS: its token and the pointing record prove it.
    a.dns.records["A bank.example"] = ["203.0.113.7"];
    a.dns.records["TXT _staxa-challenge.bank.example"] = [mine.json.data.verification.token];
    expect((await a.verify(a.squatter.tid, early.json.data.id, a.squatter.auth)).status).toBe(422);
    const won = await a.verify(a.owner.tid, mine.json.data.id);
    expect(won.status).toBe(200);
    expect(won.json.data).toMatchObject({ verified: true, claim_status: "verified", conflict: null });
    expect(a.proxy.routes.get("bank.web")!.hosts).toContain("bank.example");
    // The squatter's claim stays, shown as lost; even with its own token in DNS its verify is 409 and nothing routes.
    expect((await a.list(a.squatter.tid, a.squatter.auth))[0]).toMatchObject({
      verified: false,
      claim_status: "conflicting",
      conflict: "verified_elsewhere",
    });
    a.dns.records["TXT _staxa-challenge.bank.example"].push(early.json.data.verification.token);
    const lost = await a.verify(a.squatter.tid, early.json.data.id, a.squatter.auth);
    expect([lost.status, lost.json.error.code, lost.json.error.details.field]).toEqual([409, "domain_taken", "domain"]);
    expect(a.proxy.routes.get("squat.web")!.hosts).not.toContain("bank.example");
    // The scheduler leaves the lost claim alone; adding a verified name elsewhere is 409.
    await checkPendingDomains(a.deps);
    expect(a.deps.db.query("SELECT COUNT(*) AS n FROM domains WHERE domain = 'bank.example' AND verified = 1").get()).toEqual({
      n: 1,
    });
    const third = a.keyOf("third@example.com");
    const late = await a.add(await a.tenantOf("late", third), "bank.example", third);
    expect([late.status, late.json.error.code]).toEqual([409, "domain_taken"]);
    // Deleting the owner's domain frees the name: the remaining claim can verify now.
    expect((await a.call("DELETE", `/api/v1/tenants/${a.owner.tid}/domains/${mine.json.data.id}`)).status).toBe(204);
    expect((await a.list(a.squatter.tid, a.squatter.auth))[0]).toMatchObject({ claim_status: "pending", conflict: null });
    expect((await a.verify(a.squatter.tid, early.json.data.id, a.squatter.auth)).status).toBe(200);
    await a.idle();
  });

  test("two claims verifying at the same moment: the first to verify owns the name, the other gets 409 domain_taken", async () => {
    const a = await twoProviders();
    const x = (await a.add(a.owner.tid, "race.example")).json.data;
    const y = (await a.add(a.squatter.tid, "race.example", a.squatter.auth)).json.data;
    a.dns.records["A race.example"] = ["203.0.113.7"];
    a.dns.records["TXT _staxa-challenge.race.example"] = [x.verification.token, y.verification.token];
    const [rx, ry] = await Promise.all([a.verify(a.owner.tid, x.id), a.verify(a.squatter.tid, y.id, a.squatter.auth)]);
    expect([rx.status, ry.status].sort()).toEqual([200, 409]);
    expect(a.deps.db.query("SELECT COUNT(*) AS n FROM domains WHERE domain = 'race.example' AND verified = 1").get()).toEqual({
      n: 1,
    });
    await a.idle();
  });

  test("migration 100 keeps every domain row and allows several unverified claims of a name but one verified", () => {
    const db = new Database(":memory:");
    db.exec("PRAGMA foreign_keys = ON");
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version < 100),
    );
    db.exec(`INSERT INTO providers (id, email, name, created_at, updated_at) VALUES ('prv_1', 'p@example.com', NULL, 't', 't')`);
    const tenant = (id: string) =>
      db
        .query(
          "INSERT INTO tenants (id, provider_id, mode, name, status, created_at, updated_at) VALUES (?, 'prv_1', 'live', ?, 'ready', 't', 't')",
        )
        .run(id, id.slice(4));
    tenant("ten_a");
    tenant("ten_b");
    const insert = (id: string, tenantId: string, verified: number) =>
      db
        .query(
          "INSERT INTO domains (id, tenant_id, domain, verified, verification_token, created_at, updated_at) VALUES (?, ?, 'x.example', ?, 'tok', 't', 't')",
        )
        .run(id, tenantId, verified);
    insert("dom_1", "ten_a", 1);
    expect(() => insert("dom_2", "ten_b", 0)).toThrow(/UNIQUE/); // before: one row per name
    expect(migrate(db)).toContain(100);
    expect(db.query("SELECT id, verified FROM domains").all()).toEqual([{ id: "dom_1", verified: 1 }]);
    insert("dom_2", "ten_b", 0);
    expect(() => insert("dom_3", "ten_b", 0)).toThrow(/UNIQUE/); // one claim per tenant
    expect(() => db.query("UPDATE domains SET verified = 1 WHERE id = 'dom_2'").run()).toThrow(/UNIQUE/); // one verified per name
    expect(db.query("SELECT COUNT(*) AS n FROM domains").get()).toEqual({ n: 2 });
  });
});
