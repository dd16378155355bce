// The small executor of backups and restores: runs the commands plan.ts describes against the runtime and streams
// their bytes through the sealed file. Runs in the tenant's lane, so no deployment replaces a container meanwhile.
import type { Ctx } from "../context.ts";
import type { ServiceRow } from "../../store/services.ts";
import type { TenantRow } from "../../store/tenants.ts";
import type { BackupRow } from "../../store/backups.ts";
import type { ContainerInfo, ExecIo } from "../../runtime/types.ts";
import * as backups from "../../store/backups.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import { nowIso } from "../../lib/ids.ts";
import { openEnv, redactEnvValues } from "../env-vars.ts";
import { mountsOf } from "../deploy/volumes.ts";
import { SealedWriter, readSealed } from "./cipher.ts";
import { backupPath, ensureTenantBackupDir, fileName } from "./files.ts";
import * as plan from "./plan.ts";

/** Seconds a stopped service gets to shut down cleanly before its volumes are read. */
const STOP_TIMEOUT_SEC = 30;

interface Target {
  t: TenantRow;
  s: ServiceRow;
  container: ContainerInfo | undefined;
  env: Record<string, string>;
}

async function targetOf(ctx: Ctx, row: BackupRow): Promise<Target> {
  const t = tenants.findById(ctx.db, row.tenant_id);
  const s = t ? services.find(ctx.db, t.id, row.service) : undefined;
  if (!t || !s) throw new Error(`service "${row.service}" no longer exists`);
  if (t.status === "deleting") throw new Error("the tenant is being deleted");
  const container = s.container_id ? await ctx.runtime.inspectContainer(s.container_id) : undefined;
  return { t, s, container, env: { ...openEnv(ctx.box, t.env_enc), ...openEnv(ctx.box, s.env_enc) } };
}

const failure = (what: string, r: { exitCode: number; stderr: string }) =>
  new Error(`${what} exited with ${r.exitCode}${r.stderr.trim() ? `: ${r.stderr.trim().slice(-500)}` : ""}`);

/** A program's failure text may quote the service's env (a connection string): its secrets are masked. */
const reasonOf = (ctx: Ctx, tg: Target | undefined, e: unknown): string =>
  redactEnvValues(ctx.box, tg ? [tg.t.env_enc, tg.s.env_enc] : [], { m: (e as Error).message }).m;

async function exec(ctx: Ctx, id: string, step: plan.ExecStep, io: ExecIo = {}): Promise<void> {
  const r = await ctx.runtime.exec!(id, step.argv, {
    env: step.env,
    ...(step.stdin ? { stdin: Buffer.from(step.stdin) } : {}),
    ...io,
  });
  if (r.exitCode !== 0) throw failure(step.argv[0]!, r);
}

/** Stops the service's container around `fn` (its volumes are then at rest) and starts it again whatever happens. */
async function whileStopped(ctx: Ctx, c: ContainerInfo | undefined, fn: () => Promise<void>): Promise<void> {
  if (c?.running) await ctx.runtime.stopContainer!(c.id, STOP_TIMEOUT_SEC);
  try {
    await fn();
  } finally {
    if (c?.running) await ctx.runtime.startStopped!(c.id);
  }
}

const helperImage = (tg: Target): string => {
  const image = tg.s.live_image ?? tg.container?.image;
  if (!image) throw new Error(`service "${tg.s.name}" has never been deployed: its image holds the tar to use`);
  return image;
};

/** Takes one backup (the row is `queued`); ends it `succeeded` with its file and size, or `failed` with the reason. */
export async function runBackup(ctx: Ctx, id: string, tenantId: string): Promise<void> {
  const row = backups.find(ctx.db, tenantId, id);
  if (!row || row.status !== "queued") return;
  let tg: Target | undefined;
  let w: SealedWriter | undefined;
  try {
    tg = await targetOf(ctx, row);
    const method = plan.methodFor({ image: tg.s.image_url, volumes: mountsOf(tg.s), running: !!tg.container?.running });
    if (!method) throw new Error(`service "${row.service}" holds no data to back up (no volume, and not a running Postgres)`);
    backups.update(ctx.db, id, { status: "running", method });
    const file = fileName(id);
    ensureTenantBackupDir(ctx, tenantId);
    const writer = (w = await SealedWriter.create(backupPath(ctx, tenantId, file), ctx.box, {
      backup_id: id,
      tenant_id: tenantId,
      service: row.service,
      method,
      created_at: row.created_at,
    }));
    const sink = { onStdout: (b: Uint8Array) => writer.write(b) };
    if (method === "pg_dump") {
      const user = plan.pgUser(tg.env);
      let listed = "";
      await exec(ctx, tg.container!.id, plan.pgListDatabases(user), { onStdout: (b) => void (listed += Buffer.from(b)) });
      for (const step of plan.pgDumpSteps(user, JSON.parse(listed.trim() || "[]") as string[])) {
        await writer.startPart(step.part);
        await exec(ctx, tg.container!.id, step, sink);
      }
    } else {
      const base = { tenant: tg.t.name, tenantId, image: helperImage(tg) };
      const mounts = mountsOf(tg.s);
      await whileStopped(ctx, tg.container, async () => {
        for (const [i, m] of mounts.entries()) {
          await writer.startPart(plan.volumePart(m.name));
          const r = await ctx.runtime.runHelper!(plan.tarBackupHelper({ ...base, volume: m.name }, `${id.slice(-8)}-${i}`), sink);
          if (r.exitCode !== 0) throw failure("tar", r);
        }
      });
    }
    const size = await writer.finish();
    backups.update(ctx.db, id, { status: "succeeded", file, size_bytes: size, finished_at: nowIso(ctx.now()) });
  } catch (e) {
    await w?.abort();
    const reason = reasonOf(ctx, tg, e);
    backups.update(ctx.db, id, { status: "failed", reason, finished_at: nowIso(ctx.now()) });
    ctx.log.warn("backup failed", { backup_id: id, tenant_id: tenantId, reason });
  }
}

/** The names of the parts of a file; reading them all first authenticates every frame before anything is changed. */
async function partsOf(ctx: Ctx, path: string): Promise<string[]> {
  const names: string[] = [];
  for await (const item of readSealed(path, ctx.box)) if (item.type === "part") names.push(item.name);
  return names;
}

/** The bytes of one part, decrypted as they are read. */
async function* partBytes(ctx: Ctx, path: string, name: string): AsyncGenerator<Uint8Array> {
  let inside = false;
  for await (const item of readSealed(path, ctx.box)) {
    if (item.type === "part") {
      if (inside) return;
      inside = item.name === name;
    } else if (inside) yield item.bytes;
  }
}

/** Restores a succeeded backup into its service (the row's restore_status is `running`). */
export async function runRestore(ctx: Ctx, id: string, tenantId: string): Promise<void> {
  const row = backups.find(ctx.db, tenantId, id);
  if (!row || row.restore_status !== "running" || !row.file) return;
  let tg: Target | undefined;
  try {
    tg = await targetOf(ctx, row);
    const path = backupPath(ctx, tenantId, row.file);
    const parts = await partsOf(ctx, path);
    if (row.method === "pg_dump") {
      if (!tg.container?.running) throw new Error(`service "${row.service}" is not running: deploy it, then restore`);
      if (!parts.every(plan.isPgPart)) throw new Error("the file holds parts a Postgres backup never has");
      const user = plan.pgUser(tg.env);
      for (const part of parts) {
        const steps = plan.pgRestoreSteps(user, part);
        for (const [i, step] of steps.entries()) {
          const last = i === steps.length - 1;
          await exec(ctx, tg.container.id, step, last ? { stdin: partBytes(ctx, path, part) } : {});
        }
      }
    } else {
      const mounts = new Set(mountsOf(tg.s).map((m) => m.name));
      const missing = parts.find((p) => !p.startsWith("volume/") || !mounts.has(p.slice("volume/".length)));
      if (missing) throw new Error(`the backup's ${missing} is not a volume of service "${row.service}" any more`);
      const base = { tenant: tg.t.name, tenantId, image: helperImage(tg) };
      await whileStopped(ctx, tg.container, async () => {
        for (const [i, part] of parts.entries()) {
          const [clear, extract] = plan.tarRestoreHelpers(
            { ...base, volume: part.slice("volume/".length) },
            `${id.slice(-8)}-${i}`,
          );
          const c = await ctx.runtime.runHelper!(clear!);
          if (c.exitCode !== 0) throw failure("find", c);
          const x = await ctx.runtime.runHelper!(extract!, { stdin: partBytes(ctx, path, part) });
          if (x.exitCode !== 0) throw failure("tar", x);
        }
      });
    }
    backups.update(ctx.db, id, { restore_status: "succeeded", restore_reason: null, restored_at: nowIso(ctx.now()) });
  } catch (e) {
    const reason = reasonOf(ctx, tg, e);
    backups.update(ctx.db, id, { restore_status: "failed", restore_reason: reason, restored_at: nowIso(ctx.now()) });
    ctx.log.warn("restore failed", { backup_id: id, tenant_id: tenantId, reason });
  }
}
