// Images every node can pull (swarm engine): an image built or pulled on the manager's engine is tagged into the
// cluster registry and pushed; the service runs it by digest, with the registry's credentials sent along
// (X-Registry-Auth, like `docker service create --with-registry-auth`) so each node's engine pulls it. Retention
// deletes a removed image's manifest there too.
import type Docker from "dockerode";
import { Upstream } from "../lib/errors.ts";
import type { RegistryAuth } from "./types.ts";
import { call, scrub, upstream } from "./docker-errors.ts";
import type { ClusterRegistry } from "../registry-server/material.ts";

/**
 * Where a local image goes in the cluster registry: `staxa/t-web:dep` → `<registry>/staxa/t-web:dep`; an image
 * of another registry keeps that registry's name as its first path component (`ghcr.io/a/b:1` →
 * `<registry>/ghcr.io/a/b:1`), so two registries' same-named images never meet; a digest reference gets the
 * digest as its tag.
 */
export function clusterRef(registry: string, localRef: string): { repo: string; tag: string; path: string } {
  const [named, digest] = localRef.split("@") as [string, string | undefined];
  const slash = named.lastIndexOf("/");
  const colon = named.lastIndexOf(":");
  const tagged = colon > slash;
  let name = tagged ? named.slice(0, colon) : named;
  const tag = tagged ? named.slice(colon + 1) : digest ? digest.replace(":", "-") : "latest";
  const [first, ...rest] = name.split("/");
  // Docker's rule: a first component with a dot or a port, or "localhost", is a registry host.
  if (rest.length && /[.:]|^localhost$/.test(first!)) name = [first!.replace(/:/g, "-"), ...rest].join("/");
  const path = name.toLowerCase();
  return { repo: `${registry}/${path}`, tag, path };
}

/**
 * The name an image is pushed under. Core starts services from an image id (`sha256:…`), which a registry cannot
 * name: the deployment's own tag (`staxa/<tenant>-<service>:<deployment>`, what retention removes) when the image
 * has it, else another local tag (a pulled image's), else one made from the labels.
 */
export async function pushName(docker: Docker, registry: string, image: string, labels: Record<string, string>): Promise<string> {
  if (!/^sha256:[0-9a-f]{64}$/.test(image)) return image;
  const info = await call(`inspect image ${image}`, () => docker.getImage(image).inspect());
  const tags = (info.RepoTags ?? []).filter((t) => t !== "<none>:<none>" && !t.startsWith(`${registry}/`));
  const dep = labels["staxa.deployment"]?.replace(/^dep_/, "");
  const own = dep ? tags.find((t) => t.startsWith("staxa/") && t.endsWith(`:${dep}`)) : undefined;
  const tenant = `${labels["staxa.tenant"] ?? "image"}-${labels["staxa.service"] ?? "service"}`;
  return own ?? tags.sort()[0] ?? `staxa/${tenant}:${image.slice(7, 19)}`;
}

/** The credentials Docker sends as X-Registry-Auth (dockerode encodes them): for the push and every node's pull. */
export const registryAuth = (r: ClusterRegistry): RegistryAuth => ({
  serveraddress: r.address,
  username: r.username,
  password: r.password,
});

interface PushEvent {
  error?: string;
  errorDetail?: { message?: string };
  aux?: { Digest?: string };
}

/**
 * Tags `localRef` into the registry and pushes it; returns `<registry>/<path>:<tag>@<digest>`, the reference every
 * node pulls. Layers the registry already holds are not sent again.
 */
export async function publishImage(docker: Docker, r: ClusterRegistry, localRef: string): Promise<string> {
  const { repo, tag } = clusterRef(r.address, localRef);
  const secrets = [r.password];
  await call(`tag ${localRef} for the cluster registry`, () => docker.getImage(localRef).tag({ repo, tag }));
  const events = await call(
    `push ${repo}:${tag}`,
    async () => {
      const stream = (await docker.getImage(repo).push({ tag, authconfig: registryAuth(r) })) as NodeJS.ReadableStream;
      return new Promise<PushEvent[]>((resolve, reject) =>
        docker.modem.followProgress(stream, (err: Error | null, out: PushEvent[]) => (err ? reject(err) : resolve(out))),
      );
    },
    secrets,
  );
  const failed = events.find((e) => e.error || e.errorDetail?.message);
  if (failed) throw upstream(`push ${repo}:${tag}`, new Error(failed.errorDetail?.message ?? failed.error), secrets);
  const digest = events.map((e) => e.aux?.Digest).find((d) => d?.startsWith("sha256:"));
  if (!digest) throw new Upstream("docker", `push ${repo}:${tag}: the registry reported no digest`);
  return `${repo}:${tag}@${digest}`;
}

const MANIFESTS = [
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
].join(", ");

/**
 * Deletes the manifest `localRef` was pushed as (registry API: the tag's digest, then DELETE by digest). Already
 * gone is fine. Blobs stay until `docker-registry garbage-collect` runs (docs/swarm.md).
 */
export async function unpublishImage(r: ClusterRegistry, localRef: string): Promise<void> {
  const { path, tag } = clusterRef(r.address, localRef);
  const base = `https://${r.address}/v2/${path}/manifests`;
  const init = {
    headers: { authorization: `Basic ${btoa(`${r.username}:${r.password}`)}`, accept: MANIFESTS },
    ...(r.caPem ? { tls: { ca: r.caPem } } : {}),
    signal: AbortSignal.timeout(30_000),
  };
  try {
    const head = await fetch(`${base}/${encodeURIComponent(tag)}`, { ...init, method: "HEAD" });
    if (head.status === 404) return;
    const digest = head.headers.get("docker-content-digest");
    if (!head.ok || !digest) throw new Error(`HEAD manifest answered ${head.status}`);
    const del = await fetch(`${base}/${digest}`, { ...init, method: "DELETE" });
    if (!del.ok && del.status !== 404) throw new Error(`DELETE manifest answered ${del.status}`);
  } catch (e) {
    throw new Upstream(
      "registry",
      scrub(`delete ${path}:${tag} from the cluster registry: ${(e as Error).message}`, [r.password]),
    );
  }
}
