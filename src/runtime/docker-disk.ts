// What the Docker engine holds on disk (images, build cache) and the calls that give it back: listing our tags,
// pruning dangling images and the BuildKit cache, and where the engine keeps its data.
import type Docker from "dockerode";
import type { EngineDisk, ImageTag } from "./types.ts";
import { call } from "./docker-errors.ts";

interface DfImage {
  Id: string;
  Created: number;
  RepoTags?: string[] | null;
  Size: number;
  SharedSize: number;
  Containers: number;
}
interface DfCache {
  Size: number;
  Shared?: boolean;
  InUse?: boolean;
}

/** Every tag in `repos` (e.g. `staxa/acme-web`) with its image id: one listing, the repos OR-ed. */
export async function listImageTags(docker: Docker, repos: string[]): Promise<ImageTag[]> {
  if (repos.length === 0) return [];
  const rows = await call("list images", () => docker.listImages({ filters: { reference: repos } }));
  const wanted = new Set(repos);
  const out: ImageTag[] = [];
  for (const r of rows) {
    for (const ref of r.RepoTags ?? []) {
      // The reference filter also matches longer names that share a prefix path; keep the exact repos only.
      if (wanted.has(ref.slice(0, ref.lastIndexOf(":")))) out.push({ ref, id: r.Id, created: r.Created });
    }
  }
  return out;
}

/** Images and build cache as `docker system df` counts them, plus the dangling images (the classic builder's leftovers). */
export async function engineDisk(docker: Docker): Promise<EngineDisk> {
  const df = (await call("disk usage", () => docker.df())) as {
    LayersSize?: number;
    Images?: DfImage[] | null;
    BuildCache?: DfCache[] | null;
  };
  const dangling = (df.Images ?? [])
    .filter((i) => (i.RepoTags ?? []).every((t) => t === "<none>:<none>") && i.Containers <= 0)
    .map((i) => ({ id: i.Id, created: i.Created, bytes: Math.max(0, i.Size - Math.max(0, i.SharedSize)) }));
  const buildCacheBytes = (df.BuildCache ?? []).filter((c) => !c.Shared).reduce((n, c) => n + c.Size, 0);
  return { imagesBytes: df.LayersSize ?? 0, buildCacheBytes, dangling };
}

/** Prunes dangling images created before `before` (unix seconds): Docker's own prune, never a removal by id. */
export async function pruneDangling(docker: Docker, before: number): Promise<number> {
  const r = (await call("prune images", () =>
    docker.pruneImages({ filters: { dangling: ["true"], until: [String(before)] } }),
  )) as { SpaceReclaimed?: number };
  return r.SpaceReclaimed ?? 0;
}

/** Prunes the BuildKit cache down to `keepBytes` (its least recently used records first); 0 with the classic builder. */
export async function pruneBuildCache(docker: Docker, keepBytes: number): Promise<number> {
  const r = (await call("prune build cache", () => docker.pruneBuilder({ "keep-storage": keepBytes } as object))) as {
    SpaceReclaimed?: number;
  };
  return r.SpaceReclaimed ?? 0;
}

/** The engine's data root (`docker info` DockerRootDir), where images, layers and the build cache live. */
export async function dataRoot(docker: Docker): Promise<string> {
  const info = (await call("info", () => docker.info())) as { DockerRootDir?: string };
  return info.DockerRootDir ?? "/var/lib/docker";
}
