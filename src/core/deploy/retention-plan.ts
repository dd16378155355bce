// Which images go, as data: per service the tags it built that nothing keeps, and how much dangling build
// cache to prune. Pure (the model is reconcile-plan.ts); retention.ts observes and applies.
import type { DeploymentStatus } from "../../store/deployments.ts";
import type { EngineDisk, ImageTag } from "../../runtime/types.ts";
import { ownerTag } from "../../runtime/build-stages.ts";

/** A deployment as retention sees it: `tag` is the tag its build would have (resources.imageTag), `image` what it ran. */
export interface RetainedDeployment {
  id: string;
  status: DeploymentStatus;
  /** The image reference it deployed: its own tag, a rolled-back-to deployment's tag, or a pulled reference. */
  image: string | null;
  tag: string;
}

/** One service: its deployments newest first, and the image id its live container runs. */
export interface RetentionService {
  liveImage: string | null;
  deployments: RetainedDeployment[];
}

const ACTIVE: DeploymentStatus[] = ["queued", "building", "deploying"];

/**
 * Tags to remove so that a service keeps only the images of its last `keep` successful deployments, whatever runs
 * (`liveImage`) and whatever an active deployment builds or reuses. Only tags of this service's own deployments
 * (and their `-stage<n>` tags) are ever named: a tag of an unknown deployment may be another tenant's (repository
 * names of tenant "a" service "b-web" and tenant "a-b" service "web" coincide) and is left alone.
 */
export function planRetention(svc: RetentionService, observed: readonly ImageTag[], keep: number): string[] {
  const kept = new Set<string>();
  let succeeded = 0;
  for (const d of svc.deployments) {
    const active = ACTIVE.includes(d.status);
    if (active) kept.add(d.tag); // a build in progress tags its image any moment now
    if (d.image && (active || (d.status === "succeeded" && succeeded++ < keep))) kept.add(d.image);
  }
  for (const t of observed) if (svc.liveImage && t.id === svc.liveImage) kept.add(ownerTag(t.ref));
  return removable(svc.deployments, observed, kept);
}

/** Every tag a deleted service (or a deleted tenant's service) built: nothing of it runs or will run again. */
export function planRemoval(deployments: readonly RetainedDeployment[], observed: readonly ImageTag[]): string[] {
  return removable(deployments, observed, new Set());
}

function removable(deployments: readonly RetainedDeployment[], observed: readonly ImageTag[], kept: Set<string>): string[] {
  const ours = new Set(deployments.map((d) => d.tag));
  return observed
    .map((t) => t.ref)
    .filter((ref) => ours.has(ownerTag(ref)) && !kept.has(ownerTag(ref)))
    .sort();
}

/** What to prune of the build cache: dangling images created before `pruneBefore` (unix s), BuildKit down to `buildKitKeepBytes`. */
export interface CachePrune {
  pruneBefore: number | null;
  buildKitKeepBytes: number;
}

/**
 * Brings the build cache (dangling images + BuildKit records) under `budgetBytes`, oldest dangling images first.
 * Images newer than `graceBefore` are never pruned: a build running now may be about to use them. With `lowDisk`
 * everything old enough goes, whatever the budget.
 */
export function planCachePrune(disk: EngineDisk, budgetBytes: number, graceBefore: number, lowDisk = false): CachePrune {
  const candidates = disk.dangling.filter((d) => d.created < graceBefore).sort((a, b) => a.created - b.created);
  if (lowDisk) return { pruneBefore: candidates.length ? graceBefore : null, buildKitKeepBytes: 0 };
  let total = disk.buildCacheBytes + disk.dangling.reduce((n, d) => n + d.bytes, 0);
  let pruneBefore: number | null = null;
  for (const d of candidates) {
    if (total <= budgetBytes) break;
    total -= d.bytes;
    pruneBefore = d.created + 1;
  }
  // Whatever dangling images remain count against the budget first; BuildKit gets the rest.
  const danglingLeft = disk.dangling
    .filter((d) => pruneBefore === null || d.created >= pruneBefore)
    .reduce((n, d) => n + d.bytes, 0);
  return { pruneBefore, buildKitKeepBytes: Math.max(0, budgetBytes - danglingLeft) };
}
