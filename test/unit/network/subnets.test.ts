// The tenant subnet pool (issue 18): CIDR math, allocation lowest-free-first, freed with the tenant, skipped blocks,
// start-up recovery from Docker and the host's routes, a clear 422 when exhausted, and Docker's "overlaps" handled.
import { describe, expect, test } from "bun:test";
import { formatCidr, parseCidr } from "../../../src/lib/cidr.ts";
import { openDb, migrate } from "../../../src/store/db.ts";
import * as subnets from "../../../src/store/subnets.ts";
import { parseRoutes } from "../../../src/runtime/host-routes.ts";
import { loadConfig, ConfigError } from "../../../src/config.ts";
import { Conflict } from "../../../src/lib/errors.ts";
import { FakeGit, FakeProxy, FakeRuntime } from "../../support/fakes.ts";
import { testApp } from "../../support/ctx.ts";
import { configureDeployer, idle } from "../../../src/core/deploy/deployer.ts";
import { recoverSubnets } from "../../../src/core/network/subnets.ts";

const POOL = parseCidr("10.224.0.0/24")!;

function store(tenantIds: string[]) {
  const db = openDb(":memory:");
  migrate(db);
  db.exec("INSERT INTO providers VALUES ('prv_1', 'a@b.c', NULL, 't', 't')");
  for (const id of tenantIds)
    db.query(
      "INSERT INTO tenants (id, provider_id, mode, name, status, created_at, updated_at) VALUES (?, 'prv_1', 'live', ?, 'ready', 't', 't')",
    ).run(id, id);
  return db;
}

describe("CIDR text", () => {
  test.each([
    ["10.224.0.0/12", "10.224.0.0/12"],
    ["192.168.4.0/22", "192.168.4.0/22"],
    ["10.224.0.1/12", undefined], // host bits set: refused, never silently widened
    ["10.256.0.0/16", undefined],
    ["10.0.0.0/33", undefined],
    ["fd00::/8", undefined],
    ["10.0.0.0", undefined],
  ])("%s", (text, want) => {
    const c = parseCidr(text);
    expect(c ? formatCidr(c) : undefined).toBe(want);
  });
});

describe("the pool setting", () => {
  test("defaults to 10.224.0.0/12 in /27s: outside Docker's default pools, 32,768 subnets", () => {
    const c = loadConfig({});
    expect([c.tenantSubnetPool, c.tenantSubnetPrefix]).toEqual(["10.224.0.0/12", 27]);
  });
  test.each([
    [{ STAXA_TENANT_SUBNET_POOL: "10.224.0.1/12" }, /STAXA_TENANT_SUBNET_POOL must be an IPv4 network/],
    [{ STAXA_TENANT_SUBNET_POOL: "" }, /STAXA_TENANT_SUBNET_POOL must not be empty/],
    [{ STAXA_TENANT_SUBNET_POOL: "10.224.0.0/24", STAXA_TENANT_SUBNET_PREFIX: "24" }, /must be longer than the pool's \/24/],
    [{ STAXA_TENANT_SUBNET_POOL: "10.0.0.0/8", STAXA_TENANT_SUBNET_PREFIX: "29" }, /more than 2\^20 subnets/],
  ])("%j is refused with the variable named", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe("allocation", () => {
  test("lowest block first; a tenant keeps its block; a deleted tenant's block is the next one given", () => {
    const db = store(["a", "b", "c", "d"]);
    expect(["a", "b", "c", "a"].map((t) => subnets.allocate(db, t, POOL, 27))).toEqual([
      "10.224.0.0/27",
      "10.224.0.32/27",
      "10.224.0.64/27",
      "10.224.0.0/27",
    ]);
    db.query("DELETE FROM tenants WHERE id = 'b'").run(); // the row going frees the block (foreign key)
    expect(subnets.find(db, "b")).toBeUndefined();
    expect(subnets.allocate(db, "d", POOL, 27)).toBe("10.224.0.32/27");
  });

  test("undefined once every block is held", () => {
    const ids = Array.from({ length: 9 }, (_, i) => `t${i}`);
    const db = store(ids);
    const got = ids.map((t) => subnets.allocate(db, t, POOL, 27));
    expect(got.slice(0, 8)).toEqual([0, 32, 64, 96, 128, 160, 192, 224].map((o) => `10.224.0.${o}/27`));
    expect(got[8]).toBeUndefined();
  });

  test("blocks a host route or a foreign network overlaps are skipped, and only until the next start-up", () => {
    const db = store(["a", "b", "c"]);
    subnets.allocate(db, "a", POOL, 27);
    db.query("UPDATE subnet_blocks SET tenant_id = NULL").run(); // block 0 free again
    subnets.recover(db, POOL, 27, {
      ours: [],
      foreign: [
        { cidr: "10.224.0.0/26", reason: "host route 10.224.0.0/26" },
        { cidr: "10.9.0.0/16", reason: "elsewhere" },
      ],
    });
    expect(subnets.allocate(db, "b", POOL, 27)).toBe("10.224.0.64/27"); // .0 and .32 lie in the route
    expect(
      db
        .query("SELECT start, reserved FROM subnet_blocks ORDER BY start")
        .all()
        .map((r: any) => r.reserved),
    ).toEqual(["host route 10.224.0.0/26", "host route 10.224.0.0/26", null]);
    subnets.recover(db, POOL, 27, { ours: [], foreign: [] }); // the route is gone at the next start
    expect(subnets.allocate(db, "c", POOL, 27)).toBe("10.224.0.0/27");
  });

  test("recovery: a tenant holds its existing network's block, and blocks below it stay allocatable", () => {
    const db = store(["a", "b"]);
    subnets.recover(db, POOL, 27, { ours: [{ tenantId: "a", subnet: "10.224.0.96/27" }], foreign: [] });
    expect(subnets.find(db, "a")).toBe("10.224.0.96/27");
    expect(subnets.allocate(db, "b", POOL, 27)).toBe("10.224.0.0/27");
    subnets.recover(db, POOL, 27, { ours: [{ tenantId: "b", subnet: "172.18.0.0/16" }], foreign: [] }); // made before the pool
    expect(subnets.find(db, "b")).toBeUndefined();
  });

  test("every allocation query is an index search, never a scan of the blocks", () => {
    const db = store([]);
    const plans = [
      "SELECT start FROM subnet_blocks WHERE prefix = 27 AND tenant_id IS NULL AND reserved IS NULL AND start BETWEEN 1 AND 9 ORDER BY start LIMIT 1",
      "SELECT * FROM subnet_blocks WHERE start <= 9 ORDER BY start DESC LIMIT 1",
      "SELECT * FROM subnet_blocks WHERE tenant_id = 'x'",
    ].map((q) => (db.query(`EXPLAIN QUERY PLAN ${q}`).all() as Array<{ detail: string }>).map((r) => r.detail).join("; "));
    for (const p of plans) expect(p).not.toMatch(/^SCAN|; SCAN|TEMP B-TREE/);
  });
});

describe("host routes", () => {
  test("destinations of every table, without defaults, the host's own addresses and Docker's bridges", () => {
    const text = [
      "default via 192.0.2.1 dev eth0",
      "172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1 linkdown",
      "10.224.0.0/27 dev br-0123abcd proto kernel scope link src 10.224.0.1",
      "192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2",
      "10.230.0.0/16 via 192.0.2.9 dev wg0 table 51820",
      "blackhole 10.240.0.0/12 proto static",
      "local 192.0.2.2 dev eth0 table local proto kernel scope host src 192.0.2.2",
      "broadcast 192.0.2.255 dev eth0 table local proto kernel scope link src 192.0.2.2",
      "203.0.113.7 via 192.0.2.1 dev eth0",
    ].join("\n");
    expect(parseRoutes(text)).toEqual(["192.0.2.0/24", "10.230.0.0/16", "10.240.0.0/12", "203.0.113.7/32"]);
  });
});

/** A runtime whose Docker holds networks the store does not know, and host routes. */
class PoolRuntime extends FakeRuntime {
  taken = new Set<string>();
  subnetOf = new Map<string, string>();
  foreignNets: Array<{ name: string; subnet: string; labels: Record<string, string> }> = [];
  routes: string[] = [];
  override async ensureNetwork(name: string, _labels?: Record<string, string>, subnet?: string): Promise<any> {
    if (this.subnetOf.has(name)) return this.subnetOf.get(name);
    if (subnet && this.taken.has(subnet))
      throw new Conflict(`subnet ${subnet} overlaps another Docker network`, { subnet }, "subnet_taken");
    this.networks.add(name);
    if (subnet) this.subnetOf.set(name, subnet);
    return subnet;
  }
  override async removeNetwork(name: string) {
    this.networks.delete(name);
    this.subnetOf.delete(name);
  }
  async listNetworks() {
    return [...this.foreignNets, ...[...this.subnetOf].map(([name, subnet]) => ({ name, subnet, labels: {} }))];
  }
  async hostRoutes() {
    return this.routes;
  }
}

function poolApp(env: Record<string, string> = {}) {
  const runtime = new PoolRuntime();
  const a = testApp(
    { runtime, proxy: new FakeProxy(), git: new FakeGit() },
    { STAXA_DRAIN_SEC: "0", STAXA_TENANT_SUBNET_POOL: "10.224.0.0/26", ...env },
  );
  configureDeployer(a.deps, { probe: runtime.probe, healthTimeoutMs: 300 });
  const create = (name: string) =>
    a.call("POST", "/api/v1/tenants", { name, source_type: "image", image_url: "example/app:1", app_port: 3000 });
  return { ...a, runtime, create };
}

describe("tenant networks on the pool", () => {
  test("each tenant's network gets its own block; a deleted tenant's block is given to the next tenant", async () => {
    const a = poolApp();
    const one = (await a.create("pool-one")).json.data.id;
    await a.create("pool-two");
    await idle(a.deps);
    expect(Object.fromEntries(a.runtime.subnetOf)).toEqual({
      "staxa-pool-one": "10.224.0.0/27",
      "staxa-pool-two": "10.224.0.32/27",
    });
    expect((await a.call("DELETE", `/api/v1/tenants/${one}`)).status).toBe(202);
    await idle(a.deps);
    expect(a.runtime.subnetOf.has("staxa-pool-one")).toBe(false);
    await a.create("pool-three");
    await idle(a.deps);
    expect(a.runtime.subnetOf.get("staxa-pool-three")).toBe("10.224.0.0/27");
  });

  test("an exhausted pool is a 422 naming the setting, and nothing is stored", async () => {
    const a = poolApp();
    expect((await a.create("full-one")).status).toBe(202);
    expect((await a.create("full-two")).status).toBe(202);
    const r = await a.create("full-three");
    expect(r.status).toBe(422);
    expect(r.json.error).toMatchObject({
      code: "subnet_pool_exhausted",
      details: { pool: "10.224.0.0/26", prefix: 27, held: 2, total: 2 },
    });
    expect(r.json.error.message).toContain("STAXA_TENANT_SUBNET_POOL");
    expect(a.ctx.db.query("SELECT COUNT(*) AS n FROM tenants WHERE name = 'full-three'").get()).toEqual({ n: 0 });
  });

  test("a block Docker says another network overlaps is skipped, and the next one used", async () => {
    const a = poolApp();
    a.runtime.taken.add("10.224.0.0/27");
    const id = (await a.create("pool-overlap")).json.data.id;
    await idle(a.deps);
    expect((await a.call("GET", `/api/v1/tenants/${id}`)).json.data.status).toBe("ready");
    expect(a.runtime.subnetOf.get("staxa-pool-overlap")).toBe("10.224.0.32/27");
  });

  test("networks another appliance made in the pool after start-up are learned in one listing, not one refusal each", async () => {
    const a = poolApp({ STAXA_TENANT_SUBNET_POOL: "10.224.0.0/22" });
    // 20 blocks held by another store's tenants on the same engine: more than the refusals one deploy may meet.
    for (let i = 0; i < 20; i++) {
      const subnet = `10.224.${Math.floor(i / 8)}.${(i % 8) * 32}/27`;
      a.runtime.taken.add(subnet);
      a.runtime.foreignNets.push({
        name: `staxa-other-${i}`,
        subnet,
        labels: { "staxa.managed": "1", "staxa.tenant_id": `ten_other${i}` },
      });
    }
    const id = (await a.create("late-comer")).json.data.id;
    await idle(a.deps);
    expect((await a.call("GET", `/api/v1/tenants/${id}`)).json.data.status).toBe("ready");
    expect(a.runtime.subnetOf.get("staxa-late-comer")).toBe("10.224.2.128/27");
  });

  test("start-up recovery skips what the host routes and foreign networks hold; a full pool then says so", async () => {
    const a = poolApp();
    a.runtime.routes = ["10.224.0.0/27", "192.0.2.0/24"];
    a.runtime.foreignNets = [{ name: "someone-else", subnet: "10.224.0.32/28", labels: {} }];
    expect(await recoverSubnets(a.deps)).toEqual(["host route 10.224.0.0/27", "Docker network someone-else (10.224.0.32/28)"]);
    const r = await a.create("pool-none");
    expect(r.status).toBe(422);
    expect(r.json.error.details).toMatchObject({ held: 0, skipped: 2, total: 2 });
  });
});
