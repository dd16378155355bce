// `staxa backup <file>` and `staxa restore <file>`: online backup of the store + secret key, and restore into an empty data dir.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Config } from "../config.ts";
import { openDb } from "../store/db.ts";
import { createBackup, restoreBackup, writePrivateFile } from "../backup/archive.ts";
import { AppError, Invalid } from "../lib/errors.ts";
import { loadOrCreateKey } from "../lib/secret-key.ts";
import { UsageError, type Flags } from "./args.ts";
import { tenantBackupParts } from "../backup/tenant-parts.ts";

/** Where tenant volume backups live (core/backups/files.ts says the same for the running appliance). */
const tenantBackupsDir = (config: Config) => config.backupDir || join(config.dataDir, "backups");

/** Reads a passphrase file (first line, without its newline); refuses an empty one. */
function passphraseFrom(flags: Flags): string | undefined {
  const file = flags.string("passphrase-file");
  if (file === undefined) return undefined;
  if (!existsSync(file)) throw new Invalid("passphrase-file", `--passphrase-file ${file} does not exist`);
  const pass = readFileSync(file, "utf8").split(/\r?\n/)[0] ?? "";
  if (!pass) throw new Invalid("passphrase-file", `--passphrase-file ${file} is empty`);
  return pass;
}

function target(flags: Flags, verb: string): string {
  const [file, ...extra] = flags.positionals;
  if (!file || extra.length) throw new UsageError(`usage: staxa ${verb} <file> [--passphrase-file F]`);
  return resolve(file);
}

/** Errors of the domain (corrupt archive, wrong passphrase, non-empty dir) become one clear line and exit 1. */
function report(err: unknown): number {
  if (err instanceof AppError) {
    process.stderr.write(`staxa: ${err.message}\n`);
    return 1;
  }
  throw err;
}

export function backupCommand(config: Config, flags: Flags): number {
  const file = target(flags, "backup");
  const force = flags.bool("force");
  const withTenants = flags.bool("with-tenant-backups");
  try {
    const passphrase = passphraseFrom(flags);
    flags.done();
    if (existsSync(file) && !force) throw new Invalid("file", `${file} exists; pass --force to overwrite it`);
    if (!existsSync(config.dbPath))
      throw new Invalid("STAXA_DATA_DIR", `no store at ${config.dbPath} (is STAXA_DATA_DIR right?)`);
    // The key is created on first start; a store that never had one holds no sealed secrets yet.
    loadOrCreateKey(config.secretKeyPath);
    const db = openDb(config.dbPath);
    const extra = withTenants ? tenantBackupParts(tenantBackupsDir(config)) : [];
    const archive = createBackup(db, readFileSync(config.secretKeyPath), { scratchDir: dirname(file), passphrase, extra });
    db.close();
    writePrivateFile(file, archive);
    process.stdout.write(
      `backup written to ${file} (${archive.length} bytes${withTenants ? `, ${extra.length} tenant backups` : ""}${passphrase ? ", encrypted" : ", NOT encrypted: keep it as secret as the data dir"})\n`,
    );
    return 0;
  } catch (err) {
    return report(err);
  }
}

export function restoreCommand(config: Config, flags: Flags): number {
  const file = target(flags, "restore");
  const force = flags.bool("force");
  try {
    const passphrase = passphraseFrom(flags);
    flags.done();
    if (!existsSync(file)) throw new Invalid("file", `${file} does not exist`);
    const header = restoreBackup(readFileSync(file), config.dataDir, {
      passphrase,
      force,
      tenantBackupsDir: tenantBackupsDir(config),
    });
    process.stdout.write(
      `restored backup of ${header.created_at} (schema ${header.schema_version}) into ${config.dataDir}${header.tenant_backups ? ` with ${header.tenant_backups} tenant backups` : ""}; start the appliance to apply newer migrations\n`,
    );
    return 0;
  } catch (err) {
    return report(err);
  }
}
