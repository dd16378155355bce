// `staxa backup --with-tenant-backups`: the tenants' encrypted backup files travel in the appliance's archive and a
// restore puts them back byte for byte; without the option they stay out; a part name cannot write outside its folder.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../../src/config.ts";
import { openDb, migrate } from "../../../src/store/db.ts";
import { loadOrCreateKey } from "../../../src/lib/secret-key.ts";
import { parseArgs } from "../../../src/cli/args.ts";
import { backupCommand, restoreCommand } from "../../../src/cli/backup.ts";
import { openArchive } from "../../../src/backup/archive.ts";
import { writeTenantBackupParts } from "../../../src/backup/tenant-parts.ts";

const root = mkdtempSync(join(tmpdir(), "staxa-store-backup-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const src = join(root, "src");
const FILE = "tenant-backups/ten_abc/bkp_one.stxt";

function seedDataDir(): void {
  loadOrCreateKey(join(src, "secret.key"));
  const db = openDb(join(src, "staxa.db"));
  migrate(db);
  db.close();
  mkdirSync(join(src, "backups", "ten_abc"), { recursive: true });
  writeFileSync(join(src, "backups", "ten_abc", "bkp_one.stxt"), "STAXA-TENANT-BACKUP 1\nsealed bytes");
  writeFileSync(join(src, "backups", "ten_abc", "bkp_two.stxt.partial"), "half written");
}

const quiet = <T>(fn: () => T): T => {
  const w = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return fn();
  } finally {
    process.stdout.write = w;
  }
};

describe("staxa backup --with-tenant-backups", () => {
  test("carries the finished tenant backup files, and restore writes them back", () => {
    seedDataDir();
    const config = loadConfig({ STAXA_DATA_DIR: src });
    const with_ = join(root, "with.stxb");
    const without = join(root, "without.stxb");
    expect(
      quiet(() => backupCommand(config, parseArgs([with_, "--with-tenant-backups"], ["force", "with-tenant-backups"]))),
    ).toBe(0);
    expect(quiet(() => backupCommand(config, parseArgs([without], ["force", "with-tenant-backups"])))).toBe(0);
    const parts = [...openArchive(readFileSync(with_)).parts.keys()];
    expect(parts).toEqual(["staxa.db", "secret.key", FILE]); // the .partial file stays out
    expect([...openArchive(readFileSync(without)).parts.keys()]).toEqual(["staxa.db", "secret.key"]);

    const target = join(root, "restored");
    const config2 = loadConfig({ STAXA_DATA_DIR: target });
    expect(quiet(() => restoreCommand(config2, parseArgs([with_], ["force"])))).toBe(0);
    expect(readFileSync(join(target, "backups", "ten_abc", "bkp_one.stxt"), "utf8")).toBe("STAXA-TENANT-BACKUP 1\nsealed bytes");
    expect(readdirSync(join(target, "backups", "ten_abc"))).toEqual(["bkp_one.stxt"]);
  });

  test("a part named to escape its folder is never written", () => {
    const out = join(root, "escape");
    const n = writeTenantBackupParts(
      new Map<string, Uint8Array>([
        ["tenant-backups/../../evil.stxt", Buffer.from("x")],
        ["tenant-backups/ten_a/../bkp_x.stxt", Buffer.from("x")],
        ["tenant-backups/ten_a/bkp_x.stxt/../../y", Buffer.from("x")],
        ["staxa.db", Buffer.from("x")],
      ]),
      out,
    );
    expect(n).toBe(0);
    expect(existsSync(out)).toBe(false);
  });
});
