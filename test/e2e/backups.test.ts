// Tenant volume backups against the real Docker engine: a Postgres template tenant is dumped while it serves and
// restored (deleted rows come back; the file on disk holds no row in clear); a Redis tenant's volume is tarred with
// its container stopped and started again; list, delete, a schedule fired by an advanced clock with its retention,
// and the files going with their tenant.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { dockerCli, teardownE2e, uniqueName } from "../support/docker.ts";
import { e2eApp } from "../support/e2e-app.ts";
import { ensureTemplateImages } from "../support/template-images.ts";
import { startTenantBackupScheduler } from "../../src/scheduler/tenant-backups-job.ts";

const PREFIX = uniqueName("bkp");
const ADMIN_PORT = 23000 + Math.floor(Math.random() * 400) * 2;
let caddy: TestCaddy;
let h: Awaited<ReturnType<typeof e2eApp>>;
const cleanup: string[] = [];
/** The scheduler's clock runs this far ahead of the wall clock (moved to each schedule's next fire). */
let ahead = 0;
let stopScheduler = () => {};
// A string no dump header, schema or tool output contains: only the rows do.
const MARK = `zebra-pelican-${crypto.randomUUID().slice(0, 8)}`;
const PG_ENV = {
  POSTGRES_USER: "app",
  POSTGRES_DB: "app",
  PGDATA: "/var/lib/postgresql/data/pgdata",
  POSTGRES_PASSWORD: `pw-${crypto.randomUUID()}`,
};

beforeAll(async () => {
  await ensureTemplateImages();
  caddy = await startCaddy({ adminPort: ADMIN_PORT });
  h = await e2eApp({
    STAXA_BASE_DOMAIN: "e2e-backups.test",
    STAXA_PUBLIC_SCHEME: "http",
    STAXA_HTTP_PORT: String(ADMIN_PORT + 1),
    STAXA_HTTPS_PORT: String(ADMIN_PORT + 801),
    STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
    STAXA_DRAIN_SEC: "0",
    STAXA_HEALTH_TIMEOUT_SEC: "60",
  });
  cleanup.push(h.dataDir);
  stopScheduler = startTenantBackupScheduler({ ...h.ctx, now: () => new Date(Date.now() + ahead) }, { everySec: 1 });
}, 600_000);

afterAll(async () => {
  stopScheduler();
  await h?.ctx.deployer.queue.idle();
  await teardownE2e(PREFIX, caddy, cleanup);
}, 120_000);

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(250);
  }
}

async function createTenant(name: string, body: Record<string, unknown>): Promise<string> {
  const r = await h.call("POST", "/api/v1/tenants", { name, source_type: "image", ...body });
  expect(r.status).toBe(202);
  const id = r.json.data.id as string;
  const events = await h.events(id, 300_000);
  expect(events.at(-1)?.stage).toBe("ready");
  return id;
}

async function containerOf(tenant: string): Promise<string> {
  const ids = (await dockerCli(["ps", "-q", "--no-trunc", "--filter", `label=staxa.tenant=${tenant}`])).out
    .split("\n")
    .filter(Boolean);
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

const list = async (id: string) => (await h.call("GET", `/api/v1/tenants/${id}/backups`)).json.data as any[];
const finished = (id: string, backupId: string) =>
  until(`backup ${backupId}`, async () =>
    (await list(id)).find((b) => b.id === backupId && b.status !== "queued" && b.status !== "running"),
  );
const restored = (id: string, backupId: string) =>
  until(`restore of ${backupId}`, async () => (await list(id)).find((b) => b.id === backupId && b.restore_status !== "running"));
const fileOf = (tenantId: string, backupId: string) => join(h.dataDir, "backups", tenantId, `${backupId}.stxt`);

describe("a Postgres template tenant", () => {
  const name = `${PREFIX}-pg`;
  let id = "";
  let pg = "";
  const sql = async (q: string) => {
    const r = await dockerCli(["exec", pg, "psql", "-X", "-U", "app", "-d", "app", "-v", "ON_ERROR_STOP=1", "-tAc", q]);
    if (r.code !== 0) throw new Error(`psql failed (${r.code}): ${r.err}`);
    return r.out.trim();
  };

  test("deploys, and rows are written with psql", async () => {
    id = await createTenant(name, {
      image_url: "staxa-test/postgres:15",
      app_port: 5432,
      env: PG_ENV,
      volumes: [{ name: "data", mount_path: "/var/lib/postgresql/data" }],
    });
    pg = await containerOf(name);
    await until("postgres accepting connections", async () =>
      (await dockerCli(["exec", pg, "pg_isready", "-U", "app"])).code === 0 ? true : undefined,
    );
    await sql("CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL)");
    await sql(`INSERT INTO customers (name) SELECT '${MARK}-' || g FROM generate_series(1, 500) g`);
    expect(await sql("SELECT count(*) FROM customers")).toBe("500");
  }, 360_000);

  let backupId = "";
  test("a backup on demand is a pg_dump taken while it serves, stored encrypted: the file holds no row in clear", async () => {
    const r = await h.call("POST", `/api/v1/tenants/${id}/backups`);
    expect(r.status).toBe(202);
    expect(r.json.data).toHaveLength(1);
    backupId = r.json.data[0].id;
    const b = await finished(id, backupId);
    expect(b).toMatchObject({ service: "web", kind: "manual", method: "pg_dump", status: "succeeded", reason: null });
    expect(await containerOf(name)).toBe(pg); // the same container kept running
    const bytes = readFileSync(fileOf(id, backupId));
    expect(b.size_bytes).toBe(bytes.length);
    expect(bytes.length).toBeGreaterThan(1000);
    expect(bytes.includes(Buffer.from(MARK))).toBe(false);
    expect(bytes.includes(Buffer.from("customers"))).toBe(false);
    expect(bytes.includes(Buffer.from(PG_ENV.POSTGRES_PASSWORD))).toBe(false);
    expect((await Bun.file(fileOf(id, backupId)).stat()).mode & 0o777).toBe(0o600);
  }, 120_000);

  test("rows deleted, then restored: every row is back", async () => {
    await sql("DELETE FROM customers WHERE id > 10");
    await sql("ALTER TABLE customers ADD COLUMN later text");
    expect(await sql("SELECT count(*) FROM customers")).toBe("10");
    const r = await h.call("POST", `/api/v1/tenants/${id}/backups/${backupId}/restore`);
    expect(r.status).toBe(202);
    expect(r.json.data.restore_status).toBe("running");
    const b = await restored(id, backupId);
    expect(b).toMatchObject({ restore_status: "succeeded", restore_reason: null });
    expect(await sql("SELECT count(*) FROM customers")).toBe("500");
    expect(await sql(`SELECT name FROM customers WHERE id = 500`)).toBe(`${MARK}-500`);
    expect(
      await sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'customers' AND column_name = 'later'"),
    ).toBe("0");
  }, 120_000);

  test("a schedule fires on its cron (clock advanced) and keeps `keep` scheduled backups; the manual one stays", async () => {
    const put = await h.call("PUT", `/api/v1/tenants/${id}/backups/schedule`, { cron: "*/5 * * * *", keep: 1 });
    expect(put.status).toBe(200);
    const scheduled = async () => (await list(id)).filter((b) => b.kind === "scheduled");
    for (const round of [1, 2]) {
      const next = (await h.call("GET", `/api/v1/tenants/${id}/backups/schedule`)).json.data.next_run_at as string;
      ahead = Math.max(ahead, Date.parse(next) + 1000 - Date.now());
      const seen = new Set((await scheduled()).map((b) => b.id));
      const fresh = await until(`scheduled backup ${round}`, async () =>
        (await scheduled()).find((b) => !seen.has(b.id) && b.status === "succeeded"),
      );
      expect(fresh.method).toBe("pg_dump");
      // retention runs after it in the tenant's lane: one scheduled backup stays
      await until("retention", async () => ((await scheduled()).length === 1 ? true : undefined), 30_000);
      expect((await scheduled())[0].id).toBe(fresh.id);
    }
    const files = readdirSync(join(h.dataDir, "backups", id)).sort();
    expect(files).toEqual((await list(id)).map((b) => `${b.id}.stxt`).sort());
    expect((await list(id)).map((b) => b.kind).sort()).toEqual(["manual", "scheduled"]);
    expect((await h.call("DELETE", `/api/v1/tenants/${id}/backups/schedule`)).status).toBe(204);
  }, 180_000);

  test("delete removes the backup and its file", async () => {
    expect((await h.call("DELETE", `/api/v1/tenants/${id}/backups/${backupId}`)).status).toBe(204);
    expect(existsSync(fileOf(id, backupId))).toBe(false);
    expect((await list(id)).map((b) => b.id)).not.toContain(backupId);
    expect((await h.call("POST", `/api/v1/tenants/${id}/backups/${backupId}/restore`)).status).toBe(404);
  });

  test("deleting the tenant deletes its backups", async () => {
    expect(readdirSync(join(h.dataDir, "backups", id)).length).toBeGreaterThan(0);
    expect((await h.call("DELETE", `/api/v1/tenants/${id}`)).status).toBe(202);
    await until("tenant gone", async () => ((await h.call("GET", `/api/v1/tenants/${id}`)).status === 404 ? true : undefined));
    expect(existsSync(join(h.dataDir, "backups", id))).toBe(false);
  }, 120_000);
});

describe("a Redis tenant (a volume, no dump tool)", () => {
  const name = `${PREFIX}-redis`;
  test("its volume is tarred with the container stopped, then started again; a restore brings the key back", async () => {
    const id = await createTenant(name, {
      image_url: "staxa-test/redis:7",
      app_port: 6379,
      command: ["redis-server", "--appendonly", "yes", "--dir", "/data"],
      volumes: [{ name: "data", mount_path: "/data" }],
    });
    const c = await containerOf(name);
    const cli = async (...args: string[]) => (await dockerCli(["exec", c, "redis-cli", ...args])).out.trim();
    expect(await cli("SET", "customer", MARK)).toBe("OK");
    const r = await h.call("POST", `/api/v1/tenants/${id}/backups`, { service: "web" });
    expect(r.status).toBe(202);
    const b = await finished(id, r.json.data[0].id);
    expect(b).toMatchObject({ method: "volume_tar", status: "succeeded" });
    expect(readFileSync(fileOf(id, b.id)).includes(Buffer.from(MARK))).toBe(false);
    // the same container, running again, with its data
    expect(await containerOf(name)).toBe(c);
    expect((await dockerCli(["inspect", "-f", "{{.State.Running}}", c])).out.trim()).toBe("true");
    // no helper container is left behind
    expect(
      (await dockerCli(["ps", "-aq", "--filter", "label=staxa.backup=1", "--filter", `label=staxa.tenant=${name}`])).out.trim(),
    ).toBe("");
    await until("redis up", async () => ((await cli("PING")) === "PONG" ? true : undefined), 30_000);
    expect(await cli("GET", "customer")).toBe(MARK);
    expect(await cli("DEL", "customer")).toBe("1");

    expect((await h.call("POST", `/api/v1/tenants/${id}/backups/${b.id}/restore`)).status).toBe(202);
    expect(await restored(id, b.id)).toMatchObject({ restore_status: "succeeded", restore_reason: null });
    await until("redis up", async () => ((await cli("PING")) === "PONG" ? true : undefined), 30_000);
    expect(await cli("GET", "customer")).toBe(MARK);
  }, 360_000);
});
