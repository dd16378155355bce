// Where tenant backups live: <STAXA_BACKUP_DIR or <data dir>/backups>/<tenant id>/<backup id>.stxt, mode 0600 in
// 0700 directories. The appliance's own store backups (staxa-*.stxb) sit beside these folders, never inside.
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Ctx } from "../context.ts";

const ID = /^[a-z]{3}_[A-Za-z0-9]+$/;

/** The folder holding every tenant's backups. */
export function backupsRoot(ctx: Pick<Ctx, "config">): string {
  return ctx.config.backupDir || join(ctx.config.dataDir, "backups");
}

/** One tenant's folder (ids only: a name could be reused by a later tenant). */
export function tenantBackupDir(ctx: Pick<Ctx, "config">, tenantId: string): string {
  if (!ID.test(tenantId)) throw new Error(`not a tenant id: ${tenantId}`);
  return join(backupsRoot(ctx), tenantId);
}

export function ensureTenantBackupDir(ctx: Pick<Ctx, "config">, tenantId: string): string {
  const dir = tenantBackupDir(ctx, tenantId);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export const fileName = (backupId: string): string => {
  if (!ID.test(backupId)) throw new Error(`not a backup id: ${backupId}`);
  return `${backupId}.stxt`;
};

export function backupPath(ctx: Pick<Ctx, "config">, tenantId: string, file: string): string {
  return join(tenantBackupDir(ctx, tenantId), file);
}

export function removeBackupFile(ctx: Pick<Ctx, "config">, tenantId: string, file: string | null): void {
  if (file) rmSync(backupPath(ctx, tenantId, file), { force: true });
}

/** Deleting a tenant deletes its backups: the whole folder goes. */
export function removeTenantBackups(ctx: Pick<Ctx, "config">, tenantId: string): void {
  rmSync(tenantBackupDir(ctx, tenantId), { recursive: true, force: true });
}

/** Half-written files a previous process left (a backup cut by a restart); returns how many were removed. */
export function removePartialFiles(ctx: Pick<Ctx, "config">): number {
  let n = 0;
  let tenants: string[];
  try {
    tenants = readdirSync(backupsRoot(ctx)).filter((d) => ID.test(d));
  } catch {
    return 0;
  }
  for (const t of tenants) {
    for (const f of readdirSync(join(backupsRoot(ctx), t))) {
      if (!f.endsWith(".partial")) continue;
      rmSync(join(backupsRoot(ctx), t, f), { force: true });
      n++;
    }
  }
  return n;
}
