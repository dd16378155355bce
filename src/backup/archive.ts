// Backup archives: a consistent copy of the store plus the secret key, optionally encrypted with a passphrase.
//
// Format (version 1), one file:
//   line 1   "STAXA-BACKUP 1"
//   line 2   JSON header: created_at, schema_version, parts [{name,size,sha256}], payload_sha256,
//            encryption null | {cipher:"aes-256-gcm", kdf:"scrypt", N, r, p, salt, iv, tag} (base64)
//   rest     payload: the parts' bytes concatenated (encrypted as one AES-256-GCM message when a
//            passphrase is given; the header's first line is the GCM additional data)
// payload_sha256 covers the stored payload bytes, so a damaged file is told apart from a wrong passphrase.
import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import type { Db } from "../store/db.ts";
import { integrityCheck, snapshotSchemaVersion, vacuumInto } from "../store/snapshot.ts";
import { Conflict, Invalid, Unprocessable } from "../lib/errors.ts";
import { randomAlnum } from "../lib/ids.ts";
import { writeTenantBackupParts } from "./tenant-parts.ts";

const MAGIC = "STAXA-BACKUP 1";
const DB_PART = "staxa.db";
const KEY_PART = "secret.key";
const SCRYPT = { N: 1 << 15, r: 8, p: 1 };

export interface BackupHeader {
  format: "staxa-backup";
  version: 1;
  created_at: string;
  schema_version: number;
  parts: Array<{ name: string; size: number; sha256: string }>;
  payload_sha256: string;
  encryption: null | {
    cipher: "aes-256-gcm";
    kdf: "scrypt";
    N: number;
    r: number;
    p: number;
    salt: string;
    iv: string;
    tag: string;
  };
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const deriveKey = (passphrase: string, salt: Buffer, p: { N: number; r: number; p: number }) =>
  scryptSync(passphrase, salt, 32, { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r + 1024 * 1024 });

/** Takes an online, consistent snapshot of `db` (through a temp file in `scratchDir`) and packs it with the key file. */
export function createBackup(
  db: Db,
  secretKeyFile: Uint8Array,
  opts: { scratchDir: string; passphrase?: string; now?: Date; extra?: Array<{ name: string; bytes: Uint8Array }> },
): Uint8Array {
  mkdirSync(opts.scratchDir, { recursive: true, mode: 0o700 });
  const tmp = join(opts.scratchDir, `.backup-${randomAlnum(12)}.db`);
  let dbBytes: Uint8Array;
  try {
    vacuumInto(db, tmp);
    dbBytes = readFileSync(tmp);
  } finally {
    rmSync(tmp, { force: true });
  }
  return packArchive(
    [
      { name: DB_PART, bytes: dbBytes },
      { name: KEY_PART, bytes: secretKeyFile },
      ...(opts.extra ?? []), // tenant volume backups (--with-tenant-backups)
    ],
    snapshotSchemaVersion(db),
    opts,
  );
}

/** Packs named parts into the archive format above. */
export function packArchive(
  parts: Array<{ name: string; bytes: Uint8Array }>,
  schemaVersion: number,
  opts: { passphrase?: string; now?: Date } = {},
): Uint8Array {
  const plain = Buffer.concat(parts.map((p) => p.bytes));
  let payload: Buffer = plain;
  let encryption: BackupHeader["encryption"] = null;
  if (opts.passphrase !== undefined) {
    if (opts.passphrase.length < 8) throw new Invalid("passphrase", "The passphrase must be at least 8 characters");
    const salt = randomBytes(16);
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", deriveKey(opts.passphrase, salt, SCRYPT), iv);
    cipher.setAAD(Buffer.from(MAGIC));
    payload = Buffer.concat([cipher.update(plain), cipher.final()]);
    encryption = {
      cipher: "aes-256-gcm",
      kdf: "scrypt",
      ...SCRYPT,
      salt: salt.toString("base64"),
      iv: iv.toString("base64"),
      tag: cipher.getAuthTag().toString("base64"),
    };
  }
  const header: BackupHeader = {
    format: "staxa-backup",
    version: 1,
    created_at: (opts.now ?? new Date()).toISOString(),
    schema_version: schemaVersion,
    parts: parts.map((p) => ({ name: p.name, size: p.bytes.length, sha256: sha256(p.bytes) })),
    payload_sha256: sha256(payload),
    encryption,
  };
  return Buffer.concat([Buffer.from(`${MAGIC}\n${JSON.stringify(header)}\n`), payload]);
}

const corrupt = (why: string) =>
  new Unprocessable("backup_corrupt", `The backup archive is corrupt or not a Staxa backup (${why})`);

/** Checks and unpacks an archive; throws backup_corrupt / backup_passphrase errors, never returns damaged data. */
export function openArchive(archive: Uint8Array, passphrase?: string): { header: BackupHeader; parts: Map<string, Uint8Array> } {
  const buf = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  const nl1 = buf.indexOf(0x0a);
  if (nl1 < 0 || buf.subarray(0, nl1).toString() !== MAGIC) throw corrupt("bad magic line");
  const nl2 = buf.indexOf(0x0a, nl1 + 1);
  if (nl2 < 0) throw corrupt("no header");
  let header: BackupHeader;
  try {
    header = JSON.parse(buf.subarray(nl1 + 1, nl2).toString("utf8"));
  } catch {
    throw corrupt("header is not JSON");
  }
  if (header?.format !== "staxa-backup" || header.version !== 1 || !Array.isArray(header.parts)) throw corrupt("unknown header");
  const payload = buf.subarray(nl2 + 1);
  if (sha256(payload) !== header.payload_sha256) throw corrupt("checksum mismatch");
  let plain: Buffer = payload;
  const enc = header.encryption;
  if (enc) {
    if (passphrase === undefined)
      throw new Invalid("passphrase", "This backup is encrypted: give its passphrase (--passphrase-file)");
    try {
      const decipher = createDecipheriv(
        "aes-256-gcm",
        deriveKey(passphrase, Buffer.from(enc.salt, "base64"), enc),
        Buffer.from(enc.iv, "base64"),
      );
      decipher.setAAD(Buffer.from(MAGIC));
      decipher.setAuthTag(Buffer.from(enc.tag, "base64"));
      plain = Buffer.concat([decipher.update(payload), decipher.final()]);
    } catch {
      throw new Unprocessable("backup_passphrase", "Wrong passphrase: the backup could not be decrypted");
    }
  } else if (passphrase !== undefined) {
    throw new Invalid("passphrase", "This backup is not encrypted: omit the passphrase");
  }
  const parts = new Map<string, Uint8Array>();
  let at = 0;
  for (const p of header.parts) {
    const bytes = plain.subarray(at, at + p.size);
    at += p.size;
    if (bytes.length !== p.size || sha256(bytes) !== p.sha256) throw corrupt(`part ${p.name} does not match its checksum`);
    parts.set(p.name, bytes);
  }
  if (at !== plain.length || !parts.has(DB_PART) || !parts.has(KEY_PART)) throw corrupt("parts missing");
  return { header, parts };
}

/** Restores an archive into `dataDir`, which must be empty or new unless `force`; returns the header. */
export function restoreBackup(
  archive: Uint8Array,
  dataDir: string,
  opts: { passphrase?: string; force?: boolean; tenantBackupsDir?: string } = {},
): BackupHeader & { tenant_backups: number } {
  const { header, parts } = openArchive(archive, opts.passphrase);
  const entries = existsSync(dataDir) ? readdirSync(dataDir) : [];
  if (entries.length > 0 && !opts.force) {
    throw new Conflict(
      `The data dir ${dataDir} is not empty; restore into an empty one, or pass --force to replace its store and key`,
    );
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Write beside, check, then move into place: a failed restore leaves no half-written store.
  const stage = join(dataDir, `.restore-${randomAlnum(8)}`);
  mkdirSync(stage, { mode: 0o700 });
  try {
    writeFileSync(join(stage, DB_PART), parts.get(DB_PART)!, { mode: 0o600 });
    writeFileSync(join(stage, KEY_PART), parts.get(KEY_PART)!, { mode: 0o600 });
    const check = new Database(join(stage, DB_PART), { readonly: true });
    const verdict = integrityCheck(check);
    check.close();
    if (verdict !== "ok") throw corrupt(`store integrity check: ${verdict}`);
    for (const f of [DB_PART, `${DB_PART}-wal`, `${DB_PART}-shm`, KEY_PART]) rmSync(join(dataDir, f), { force: true });
    renameSync(join(stage, DB_PART), join(dataDir, DB_PART));
    renameSync(join(stage, KEY_PART), join(dataDir, KEY_PART));
    chmodSync(join(dataDir, KEY_PART), 0o600);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  const tenantBackups = writeTenantBackupParts(parts, opts.tenantBackupsDir ?? join(dataDir, "backups"));
  return { ...header, tenant_backups: tenantBackups };
}

/** Writes bytes to `path` with mode 0600, atomically (temp file + rename). */
export function writePrivateFile(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${randomAlnum(6)}`;
  writeFileSync(tmp, bytes, { mode: 0o600, flag: "wx" });
  renameSync(tmp, path);
}
