// Image retention applied: observe a service's tags, plan (retention-plan.ts), remove our own tags. Never an image
// id: identical builds of two tenants share one, and removing a tag frees the image only when it was the last.
import type { Ctx } from "../context.ts";
import type { TenantRow } from "../../store/tenants.ts";
import type { ServiceRow } from "../../store/services.ts";
import type { DeploymentRow } from "../../store/deployments.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import * as deployments from "../../store/deployments.ts";
import { Conflict } from "../../lib/errors.ts";
import { imageTag } from "../resources.ts";
import { planCachePrune, planRemoval, planRetention, type RetainedDeployment } from "./retention-plan.ts";
import { diskLowData, diskLowMessage, lowReading, readDisk } from "./disk.ts";

/** Dangling images younger than this are never pruned: a build running now (here or on this engine) may use them. */
export const DANGLING_GRACE_SEC = 600;

/** `staxa/<tenant>-<service>`: the repository every build of the service is tagged in. */
function repoOf(tenant: string, service: string): string {
  const tag = imageTag(tenant, service, "dep_x");
  return tag.slice(0, tag.lastIndexOf(":"));
}

function history(ctx: Ctx, tenant: TenantRow, svc: ServiceRow): RetainedDeployment[] {
  const { rows } = deployments.list(ctx.db, tenant.id, { serviceId: svc.id, limit: 1_000_000, offset: 0 }); // newest first
  return rows.map((d) => ({ id: d.id, status: d.status, image: d.image, tag: imageTag(tenant.name, svc.name, d.id) }));
}

async function removeTags(ctx: Ctx, refs: string[]): Promise<number> {
  let n = 0;
  for (const ref of refs) {
    try {
      await ctx.runtime.removeImage(ref);
      n++;
    } catch (e) {
      // 409: a container still runs it (another tenant's identical image by id, an orphan): the next pass retries.
      ctx.log.warn("image tag not removed", { image: ref, error: (e as Error).message });
    }
  }
  ctx.metrics.imagesRemoved.inc({}, n);
  return n;
}

/** Drops the images a service no longer keeps (STAXA_IMAGE_KEEP, what runs, what deploys). Never throws. */
export async function retainImages(ctx: Ctx, tenant: TenantRow, svc: ServiceRow): Promise<number> {
  if (!ctx.runtime.listImageTags) return 0;
  try {
    const observed = await ctx.runtime.listImageTags([repoOf(tenant.name, svc.name)]);
    const live = services.findById(ctx.db, svc.id)?.live_image ?? null;
    return await removeTags(
      ctx,
      planRetention({ liveImage: live, deployments: history(ctx, tenant, svc) }, observed, ctx.config.imageKeep),
    );
  } catch (e) {
    ctx.log.warn("image retention skipped", { tenant: tenant.name, service: svc.name, error: (e as Error).message });
    return 0;
  }
}

/** Removes every image the services built (a deleted tenant or service): the tags of all their deployments. */
export async function removeBuiltImages(ctx: Ctx, tenant: TenantRow, svcs: ServiceRow[]): Promise<void> {
  if (!ctx.runtime.listImageTags) {
    for (const img of deployments.imagesOf(ctx.db, tenant.id))
      if (img.startsWith("staxa/")) await ctx.runtime.removeImage(img).catch(() => undefined);
    return;
  }
  const observed = await ctx.runtime.listImageTags(svcs.map((s) => repoOf(tenant.name, s.name)));
  await removeTags(
    ctx,
    planRemoval(
      svcs.flatMap((s) => history(ctx, tenant, s)),
      observed,
    ),
  );
}

/**
 * Brings the build cache under STAXA_BUILD_CACHE_MB, oldest first; with `lowDisk`, everything old enough. Skipped
 * (unless the disk is low) while a build of this appliance runs. Returns the bytes freed.
 */
export async function pruneBuildCache(ctx: Ctx, lowDisk = false): Promise<number> {
  const rt = ctx.runtime;
  if (!rt.engineDisk || !rt.pruneDangling || !rt.pruneBuildCache) return 0;
  if (!lowDisk && ctx.deployer.queue.activeBuilds > 0) return 0;
  const disk = await rt.engineDisk();
  const graceBefore = Math.floor(ctx.now().getTime() / 1000) - DANGLING_GRACE_SEC;
  const p = planCachePrune(disk, ctx.config.buildCacheMb * 1024 * 1024, graceBefore, lowDisk);
  let freed = 0;
  if (p.pruneBefore !== null) freed += await rt.pruneDangling(p.pruneBefore);
  if (disk.buildCacheBytes > p.buildKitKeepBytes) freed += await rt.pruneBuildCache(p.buildKitKeepBytes);
  const after = freed ? await rt.engineDisk() : disk;
  ctx.metrics.engineDisk.set({ kind: "images" }, after.imagesBytes);
  ctx.metrics.engineDisk.set({ kind: "build_cache" }, after.buildCacheBytes + after.dangling.reduce((n, d) => n + d.bytes, 0));
  return freed;
}

/** After a successful deploy: the service's retention, then dangling build layers past the grace. Never throws. */
export async function afterDeploy(ctx: Ctx, tenant: TenantRow, svc: ServiceRow): Promise<void> {
  await retainImages(ctx, tenant, svc);
  if (!ctx.runtime.pruneDangling || ctx.deployer.queue.activeBuilds > 0) return;
  await ctx.runtime
    .pruneDangling(Math.floor(ctx.now().getTime() / 1000) - DANGLING_GRACE_SEC)
    .catch((e) => ctx.log.warn("dangling image prune failed", { error: (e as Error).message }));
}

/**
 * The scheduled pass (and the disk guard's, `lowDisk`): every service's retention in its tenant's lane (never
 * beside its own deploy), then the build cache budget. Returns the bytes the cache prune freed.
 */
export async function imagesPass(ctx: Ctx, lowDisk = false): Promise<number> {
  const work = tenants
    .listAll(ctx.db)
    .filter((t) => t.status !== "deleting")
    .map((t) =>
      ctx.deployer.queue.enqueue(t.id, async () => {
        const fresh = tenants.findById(ctx.db, t.id);
        if (!fresh || fresh.status === "deleting") return;
        for (const s of services.list(ctx.db, t.id)) await retainImages(ctx, fresh, s);
      }),
    );
  await Promise.all(work);
  return pruneBuildCache(ctx, lowDisk);
}

/** The disk guard's periodic look: when low, prune what can go. Returns whether the disk was low. */
export async function watchDisk(ctx: Ctx): Promise<boolean> {
  const low = lowReading(await readDisk(ctx), ctx.config.minFreeDiskMb);
  if (!low) return false;
  ctx.log.warn("disk low: new builds refused, pruning", {
    disk: low.what,
    path: low.path,
    free_mb: Math.floor(low.freeBytes / 1024 / 1024),
    min_free_mb: ctx.config.minFreeDiskMb,
  });
  await imagesPass(ctx, true);
  return true;
}

/** The disk guard before a build or pull: undefined when there is room; else the refusal, and a prune starts. */
export async function roomToBuild(ctx: Ctx): Promise<{ message: string; data: Record<string, unknown> } | undefined> {
  const min = ctx.config.minFreeDiskMb;
  if (min <= 0) return undefined;
  const low = lowReading(await readDisk(ctx), min);
  if (!low) return undefined;
  // Not awaited: it queues behind this tenant's running deployment (this one) in its lane.
  void imagesPass(ctx, true).catch((e) => ctx.log.warn("prune after a refused build failed", { error: (e as Error).message }));
  return { message: diskLowMessage(low, min), data: diskLowData(low, min) };
}

/**
 * Before a rollback is queued: its image is here, or can be made again (git: its commit is built; image source: its
 * reference is pulled). Neither: 409 saying why. The pipeline does the rebuild or pull (pipeline.ts rebuildInstead).
 */
export async function assertRecreatable(ctx: Ctx, svc: ServiceRow, target: DeploymentRow): Promise<void> {
  const own = target.image?.startsWith("staxa/") ? target.image : undefined;
  if (await ctx.runtime.findImage(own ?? target.image_id!)) return;
  const pullable = svc.source_type === "image" && !!target.image && !own;
  if (pullable || (svc.source_type !== "image" && target.commit_sha)) return;
  throw new Conflict(
    `The image of ${target.id} is no longer on this server (images beyond the last ${ctx.config.imageKeep} successful deployments are removed: STAXA_IMAGE_KEEP), and it cannot be made again: ${svc.source_type === "image" ? "it was not pulled from a registry" : "no commit was recorded for it"}`,
    { deployment_id: target.id },
    "image_gone",
  );
}
