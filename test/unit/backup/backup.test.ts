// Backup archives: round trips (plain and encrypted) restore every row and a key that still opens the secrets.
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, statSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { Database } from "bun:sqlite";
import { openDb, migrate, type Db } from "../../../src/store/db.ts";
import { SecretBox } from "../../../src/lib/crypto.ts";
import { loadOrCreateKey } from "../../../src/lib/secret-key.ts";
import { ensureProvider } from "../../../src/core/identity/accounts.ts";
import { createKey } from "../../../src/core/identity/keys.ts";
import { createBackup, openArchive, restoreBackup } from "../../../src/backup/archive.ts";
import { runScheduledBackup } from "../../../src/scheduler/backup-job.ts";
import { loadConfig } from "../../../src/config.ts";
import { silentLogger } from "../../../src/lib/log.ts";

const TABLES = ["providers", "api_keys", "tenants", "services", "deployments", "events"];
const SECRET = "postgres://u:hunter2-planted@db/x";
let dir: string;
let db: Db;
let keyFile: Uint8Array;
let box: SecretBox;

function dump(d: Database): Record<string, unknown[]> {
  return Object.fromEntries(TABLES.map((t) => [t, d.query(`SELECT * FROM ${t} ORDER BY rowid`).all()]));
}

/** A store with a provider, keys of both modes, two tenants with encrypted env, services, deployments, events. */
function seed(d: Db): void {
  const { provider } = ensureProvider(d, { email: "owner@example.com", name: "Owner" });
  createKey(d, { providerId: provider.id, name: "live", mode: "live", scopes: ["*"], expiresAt: null });
  createKey(d, { providerId: provider.id, name: "test", mode: "test", scopes: ["tenants:read"], expiresAt: null });
  const now = new Date().toISOString();
  for (const [i, name] of ["acme", "globex"].entries()) {
    const tid = `ten_bk${i}`;
    d.query(
      `INSERT INTO tenants (id, provider_id, mode, name, status, branch, resource_size, egress_mode, env_enc, created_at, updated_at)
             VALUES (?, ?, 'live', ?, 'ready', 'main', 'small', 'open', ?, ?, ?)`,
    ).run(tid, provider.id, name, box.sealJson({ DATABASE_URL: SECRET, N: String(i) }), now, now);
    d.query(
      `INSERT INTO services (id, tenant_id, name, source_type, branch, is_primary, is_routable, resource_size, status, created_at, updated_at)
             VALUES (?, ?, 'web', 'image', 'main', 1, 1, 'small', 'running', ?, ?)`,
    ).run(`svc_bk${i}`, tid, now, now);
    for (const j of [0, 1]) {
      d.query(
        `INSERT INTO deployments (id, tenant_id, service_id, service_name, status, timings, created_at)
               VALUES (?, ?, ?, 'web', 'succeeded', '{"build_ms":12}', ?)`,
      ).run(`dep_bk${i}${j}`, tid, `svc_bk${i}`, now);
    }
    d.query(`INSERT INTO events (tenant_id, stage, status, message, created_at) VALUES (?, 'ready', 'done', 'live', ?)`).run(
      tid,
      now,
    );
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "staxa-backup-"));
  box = new SecretBox(loadOrCreateKey(join(dir, "src", "secret.key")));
  keyFile = readFileSync(join(dir, "src", "secret.key"));
  db = openDb(join(dir, "src", "staxa.db"));
  migrate(db);
  seed(db);
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function restoredInto(target: string): { d: Database; key: Uint8Array } {
  const d = new Database(join(target, "staxa.db"), { readonly: true });
  return { d, key: loadOrCreateKey(join(target, "secret.key")) };
}

describe("backup round trip", () => {
  for (const passphrase of [undefined, "correct horse battery staple"]) {
    test(`restores every row and the key ${passphrase ? "(encrypted)" : "(plain)"}`, () => {
      const archive = createBackup(db, keyFile, { scratchDir: dir, passphrase });
      const target = join(dir, `restore-${passphrase ? "enc" : "plain"}`);
      const header = restoreBackup(archive, target, { passphrase });
      expect(header.encryption === null).toBe(passphrase === undefined);
      const { d, key } = restoredInto(target);
      expect(dump(d)).toEqual(dump(db));
      expect(dump(d).tenants).toHaveLength(2);
      expect(dump(d).api_keys).toHaveLength(2);
      expect(dump(d).deployments).toHaveLength(4);
      const restoredBox = new SecretBox(key);
      for (const row of d.query<{ env_enc: string }, []>("SELECT env_enc FROM tenants").all()) {
        expect(restoredBox.openJson<Record<string, string>>(row.env_enc, {}).DATABASE_URL).toBe(SECRET);
      }
      expect(statSync(join(target, "secret.key")).mode & 0o777).toBe(0o600);
      expect(readdirSync(target).sort()).toEqual(["secret.key", "staxa.db"]);
      d.close();
    }, 20_000);
  }

  test("an encrypted archive does not hold the secrets or the key in clear", () => {
    const archive = Buffer.from(createBackup(db, keyFile, { scratchDir: dir, passphrase: "correct horse battery staple" }));
    expect(archive.includes(Buffer.from(Buffer.from(keyFile).toString().trim()))).toBe(false);
    expect(archive.includes(Buffer.from("owner@example.com"))).toBe(false);
  }, 20_000);
});

describe("online backup", () => {
  test("taken while another process keeps writing deployments: each restore is consistent and complete up to its moment", async () => {
    const dbPath = join(dir, "src", "staxa.db");
    // A writer in its own process, as the running appliance would be, inserting deployments as fast as it can.
    const writer = Bun.spawn(
      [
        "bun",
        "-e",
        `
      const { Database } = require("bun:sqlite");
      const d = new Database(${JSON.stringify(dbPath)});
      d.exec("PRAGMA busy_timeout = 5000");
      const ins = d.query("INSERT INTO deployments (id, tenant_id, service_id, service_name, status, timings, created_at) VALUES (?, 'ten_bk0', 'svc_bk0', 'web', 'queued', '{}', ?)");
      for (let i = 0; i < 1e9; i++) ins.run("dep_w" + i, new Date().toISOString());
    `,
      ],
      { stdout: "ignore", stderr: "ignore" },
    );
    try {
      const count = () => (db.query("SELECT COUNT(*) AS n FROM deployments").get() as { n: number }).n;
      const start = count();
      while (count() < start + 50) await Bun.sleep(5);
      for (let i = 0; i < 3; i++) {
        const low = count();
        const archive = createBackup(db, keyFile, { scratchDir: dir });
        const high = count();
        const target = join(dir, `restore-online-${i}`);
        restoreBackup(archive, target);
        const { d } = restoredInto(target);
        expect((d.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check).toBe("ok");
        const n = (d.query("SELECT COUNT(*) AS n FROM deployments").get() as { n: number }).n;
        expect(n).toBeGreaterThanOrEqual(low);
        expect(n).toBeLessThanOrEqual(high);
        d.close();
        await Bun.sleep(20);
      }
    } finally {
      writer.kill("SIGKILL");
      await writer.exited;
      db.query("DELETE FROM deployments WHERE id LIKE 'dep_w%'").run();
    }
  }, 30_000);
});

describe("bad archives are refused", () => {
  test("a flipped payload byte is reported as corrupt and restores nothing", () => {
    const archive = Buffer.from(createBackup(db, keyFile, { scratchDir: dir }));
    archive[archive.length - 100] ^= 0xff;
    const target = join(dir, "restore-corrupt");
    expect(() => restoreBackup(archive, target)).toThrow(/corrupt/);
    expect(existsSync(join(target, "staxa.db"))).toBe(false);
  });

  test("a truncated archive and a foreign file are corrupt", () => {
    const archive = Buffer.from(createBackup(db, keyFile, { scratchDir: dir }));
    expect(() => openArchive(archive.subarray(0, archive.length - 10))).toThrow(/corrupt/);
    expect(() => openArchive(Buffer.from("hello\nworld\n"))).toThrow(/corrupt/);
    expect(() => openArchive(Buffer.from("STAXA-BACKUP 1\n{not json\n"))).toThrow(/corrupt/);
  });

  test("a wrong passphrase is refused, and a missing one is asked for", () => {
    const archive = createBackup(db, keyFile, { scratchDir: dir, passphrase: "correct horse battery staple" });
    expect(() => restoreBackup(archive, join(dir, "restore-wrong"), { passphrase: "incorrect horse" })).toThrow(
      /Wrong passphrase/,
    );
    expect(() => openArchive(archive)).toThrow(/encrypted/);
    expect(existsSync(join(dir, "restore-wrong", "staxa.db"))).toBe(false);
  }, 20_000);

  test("a non-empty data dir is refused unless forced", () => {
    const archive = createBackup(db, keyFile, { scratchDir: dir });
    const target = join(dir, "restore-busy");
    restoreBackup(archive, target);
    expect(() => restoreBackup(archive, target)).toThrow(/not empty/);
    writeFileSync(join(target, "staxa.db-wal"), "stale");
    restoreBackup(archive, target, { force: true });
    expect(existsSync(join(target, "staxa.db-wal"))).toBe(false);
  });
});

describe("scheduled backups", () => {
  test("write archives into the backup dir and keep only the newest STAXA_BACKUP_KEEP", () => {
    const backups = join(dir, "scheduled");
    const config = { ...loadConfig({ STAXA_DATA_DIR: join(dir, "src"), STAXA_BACKUP_DIR: backups, STAXA_BACKUP_KEEP: "2" }) };
    let t = Date.parse("2025-01-01T00:00:00Z");
    const ctx = { config, db, log: silentLogger, now: () => new Date((t += 3_600_000)) };
    const paths = [1, 2, 3].map(() => runScheduledBackup(ctx));
    const left = readdirSync(backups).sort();
    expect(left).toEqual(
      paths
        .slice(1)
        .map((p) => p.split("/").pop()!)
        .sort(),
    );
    expect(statSync(paths[2]).mode & 0o777).toBe(0o600);
    expect(openArchive(readFileSync(paths[2])).header.parts.map((p) => p.name)).toEqual(["staxa.db", "secret.key"]);
  });
});
