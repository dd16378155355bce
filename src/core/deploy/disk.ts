// The disk pressure guard: free space on Docker's data root (images, layers, build cache) and on the data dir
// (the store, build scratch). Below STAXA_MIN_FREE_DISK_MB new builds and pulls fail fast and the appliance prunes
// what it can, so the store never is what fills the disk. Running tenants are untouched.
import { statfsSync } from "node:fs";
import type { Ctx } from "../context.ts";

/** Free space on one watched filesystem. `what`: docker (the engine's data root) or data (STAXA_DATA_DIR). */
export interface DiskReading {
  what: "docker" | "data";
  path: string;
  freeBytes: number;
}

export const DISK_SETTING = "STAXA_MIN_FREE_DISK_MB";
const MB = 1024 * 1024;

function freeBytes(path: string): number | undefined {
  try {
    const s = statfsSync(path);
    return s.bavail * s.bsize; // what an unprivileged writer may still use
  } catch {
    return undefined; // not visible from here (the appliance in a container): not watched
  }
}

/** Reads both filesystems (one `docker info` for the data root) and updates the metrics. */
export async function readDisk(ctx: Ctx): Promise<DiskReading[]> {
  const root = await ctx.runtime.dataRoot?.().catch(() => undefined);
  const out: DiskReading[] = [];
  for (const [what, path] of [
    ["docker", root],
    ["data", ctx.config.dataDir],
  ] as const) {
    const free = path ? freeBytes(path) : undefined;
    if (free !== undefined) out.push({ what, path: path!, freeBytes: free });
  }
  const low = lowReading(out, ctx.config.minFreeDiskMb);
  for (const r of out) ctx.metrics.diskFree.set({ what: r.what }, r.freeBytes);
  ctx.metrics.diskLow.set({}, low ? 1 : 0);
  return out;
}

/** The reading below `minFreeMb` with the least room, if any (0 turns the guard off). */
export function lowReading(readings: readonly DiskReading[], minFreeMb: number): DiskReading | undefined {
  if (minFreeMb <= 0) return undefined;
  return readings.filter((r) => r.freeBytes < minFreeMb * MB).sort((a, b) => a.freeBytes - b.freeBytes)[0];
}

/** What a refused build says: where, how much is free, and the setting. */
export function diskLowMessage(r: DiskReading, minFreeMb: number): string {
  const where = r.what === "docker" ? `${r.path} (Docker's data root)` : `${r.path} (the appliance's data dir)`;
  return (
    `Not enough free disk to build: ${Math.floor(r.freeBytes / MB)} MB free on ${where}, below ${DISK_SETTING}=${minFreeMb}. ` +
    "Running tenants are not affected; old images and build cache are being pruned. Free space (or lower the setting), then deploy again."
  );
}

/** The event data of a refused build. */
export function diskLowData(r: DiskReading, minFreeMb: number): Record<string, unknown> {
  return {
    reason: "disk_low",
    disk: r.what,
    path: r.path,
    free_mb: Math.floor(r.freeBytes / MB),
    min_free_mb: minFreeMb,
    setting: DISK_SETTING,
  };
}

/** What the dashboard shows: whether builds may run now, and which filesystem is short. */
export async function buildCapacity(
  ctx: Ctx,
): Promise<{ builds_allowed: boolean; min_free_mb: number; disks: Array<{ what: string; free_mb: number; low: boolean }> }> {
  const readings = await readDisk(ctx);
  const min = ctx.config.minFreeDiskMb;
  const low = lowReading(readings, min);
  return {
    builds_allowed: !low,
    min_free_mb: min,
    disks: readings.map((r) => ({ what: r.what, free_mb: Math.floor(r.freeBytes / MB), low: min > 0 && r.freeBytes < min * MB })),
  };
}
