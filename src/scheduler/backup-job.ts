// Scheduled backups (STAXA_BACKUP_CRON): writes an archive into the backup dir and keeps the newest STAXA_BACKUP_KEEP.
import { Cron } from "croner";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Ctx } from "../core/context.ts";
import { ConfigError } from "../config.ts";
import { createBackup, writePrivateFile } from "../backup/archive.ts";

const NAME = /^staxa-\d{8}T\d{6}Z\.stxb$/;

/** Where scheduled backups go. */
export function backupDirOf(ctx: Pick<Ctx, "config">): string {
  return ctx.config.backupDir || join(ctx.config.dataDir, "backups");
}

/** Runs one scheduled backup now and prunes old ones; returns the archive path. */
export function runScheduledBackup(ctx: Pick<Ctx, "config" | "db" | "log" | "now">): string {
  const dir = backupDirOf(ctx);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const passphrase = ctx.config.backupPassphraseFile
    ? readFileSync(ctx.config.backupPassphraseFile, "utf8").replace(/\r?\n$/, "")
    : undefined;
  const stamp = ctx
    .now()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  const path = join(dir, `staxa-${stamp}.stxb`);
  // VACUUM INTO reads in one transaction: the copy is consistent while the API keeps writing.
  const archive = createBackup(ctx.db, readFileSync(ctx.config.secretKeyPath), { scratchDir: dir, passphrase, now: ctx.now() });
  writePrivateFile(path, archive);
  const old = readdirSync(dir)
    .filter((f) => NAME.test(f))
    .sort()
    .reverse()
    .slice(ctx.config.backupKeep);
  for (const f of old) rmSync(join(dir, f), { force: true });
  ctx.log.info("backup written", { path, bytes: archive.length, encrypted: passphrase !== undefined, pruned: old.length });
  return path;
}

/** Starts the backup schedule when STAXA_BACKUP_CRON is set; returns a stop function (no-op when off). */
export function startBackupJob(ctx: Pick<Ctx, "config" | "db" | "log" | "now">): () => void {
  if (!ctx.config.backupCron) return () => {};
  let job: Cron;
  try {
    job = new Cron(ctx.config.backupCron, { protect: true, name: "staxa-backup" }, () => tick(ctx));
  } catch (err) {
    throw new ConfigError(`STAXA_BACKUP_CRON is not a cron expression: ${(err as Error).message}`);
  }
  ctx.log.info("backup schedule on", {
    cron: ctx.config.backupCron,
    next: job.nextRun()?.toISOString() ?? null,
    dir: backupDirOf(ctx),
  });
  return () => job.stop();
}

/** One scheduled run: a failed backup is logged, never fatal to the appliance. */
function tick(ctx: Pick<Ctx, "config" | "db" | "log" | "now">): void {
  try {
    runScheduledBackup(ctx);
  } catch (err) {
    ctx.log.error("scheduled backup failed", { error: (err as Error).message });
  }
}
