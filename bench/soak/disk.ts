// What the soak's builds take on the Docker engine, read from its API (GET /images/json?all=1, /system/df).
// Images: every layer under a tag starting with the soak's prefix that was made since the soak started (base
// images excluded). Build cache: untagged images made since then that no such tag reaches (dangling build layers),
// plus BuildKit's records. Engine-wide: `docker system df` (other work on the engine shows there too).
const SOCKET = process.env.STAXA_DOCKER_SOCKET ?? "/var/run/docker.sock";

interface Img {
  Id: string;
  ParentId: string;
  Created: number;
  Size: number;
  RepoTags: string[] | null;
}
export interface SoakDisk {
  imagesBytes: number;
  cacheBytes: number;
  engineBytes: number;
  tags: number;
}

async function api<T>(path: string): Promise<T> {
  // Docker runs one disk-usage computation at a time and answers 500 to a second one (the appliance's own images
  // job, another process): the measurement waits its turn; it is not the system under test.
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`http://docker${path}`, { unix: SOCKET } as RequestInit);
    if (res.ok) return (await res.json()) as T;
    const text = await res.text();
    if (res.status !== 500 || !/already running/i.test(text) || attempt === 20)
      throw new Error(`GET ${path}: ${res.status} ${text}`);
    await Bun.sleep(1000);
  }
}

export async function soakDisk(tagPrefix: string, since: number): Promise<SoakDisk> {
  const all = await api<Img[]>("/images/json?all=1");
  const byId = new Map(all.map((i) => [i.Id, i]));
  const own = (i: Img) => i.Size - (byId.get(i.ParentId)?.Size ?? 0); // the layer this image adds
  const tagged = (i: Img) => (i.RepoTags ?? []).some((t) => t !== "<none>:<none>");
  const closure = (start: Img[], take: (i: Img) => boolean) => {
    const seen = new Set<string>();
    for (let i of start) {
      while (i && !seen.has(i.Id) && take(i)) {
        seen.add(i.Id);
        i = byId.get(i.ParentId)!;
      }
    }
    return seen;
  };
  const ours = all.filter((i) => (i.RepoTags ?? []).some((t) => t.startsWith(tagPrefix)));
  const images = closure(ours, (i) => i.Created >= since);
  const parents = new Set(all.map((i) => i.ParentId));
  const dangling = all.filter((i) => !tagged(i) && !parents.has(i.Id) && i.Created >= since);
  const cache = closure(dangling, (i) => !tagged(i) && i.Created >= since && !images.has(i.Id));
  const df = await api<{ LayersSize?: number; BuildCache?: Array<{ Size: number; Shared?: boolean }> | null }>("/system/df");
  const buildKit = (df.BuildCache ?? []).filter((c) => !c.Shared).reduce((n, c) => n + c.Size, 0);
  const sum = (ids: Set<string>) => [...ids].reduce((n, id) => n + own(byId.get(id)!), 0);
  return {
    imagesBytes: sum(images),
    cacheBytes: sum(cache) + buildKit,
    engineBytes: (df.LayersSize ?? 0) + buildKit,
    tags: ours.reduce((n, i) => n + (i.RepoTags ?? []).filter((t) => t.startsWith(tagPrefix)).length, 0),
  };
}
