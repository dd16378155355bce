// Docker image references in one place: parsing, the registry host, Docker Hub's many names, normalisation.
// Input validation, the pull policy, registry credentials, the Dockerfile policy and deploy ordering all read
// references through this module, so they cannot disagree about which registry a reference names.

/** What every one of Docker Hub's names below normalises to. */
export const DOCKER_HUB = "docker.io";
/** Host names that all mean Docker Hub, in image references and in saved registry URLs. */
export const DOCKER_HUB_HOSTS: readonly string[] = [
  DOCKER_HUB,
  "index.docker.io",
  "registry-1.docker.io",
  "registry.hub.docker.com",
];
/** Docker Hub's v2 API origin (its registry URLs may name any of DOCKER_HUB_HOSTS). */
export const DOCKER_HUB_API = "https://registry-1.docker.io";
/** The server address Docker's credential store (and the daemon's pull auth) uses for Docker Hub. */
export const DOCKER_HUB_INDEX = "https://index.docker.io/v1/";

// One path component of a repository: lower-case alphanumerics joined by '.', '_', '__' or dashes.
const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const TAG = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
const HOST = "[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]{1,5})?";
/** Repository names per the distribution spec: lower-case components separated by '/', no '..'. */
export const REPO_NAME_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
export const TAG_RE = new RegExp(`^${TAG}$`);
/** `[host[:port]/]path[:tag][@sha256:digest]` (Docker's reference grammar, simplified: digests are sha256 only). */
export const IMAGE_REF_RE = new RegExp(`^(?:${HOST}/)?${COMPONENT}(?:/${COMPONENT})*(?::${TAG})?(?:@sha256:[a-f0-9]{64})?$`);

export interface ImageRef {
  /** host[:port] of the registry, lower-cased and normalised (DOCKER_HUB for Docker Hub under any name). */
  host: string;
  /** The repository path as written after the host: `library/nginx`, `team/app`. */
  path: string;
  tag?: string;
  /** `sha256:<hex>` when the reference pins a digest. */
  digest?: string;
}

/**
 * Splits `[host[:port]/]path[:tag][@digest]`. The first component is a registry host, as Docker decides,
 * when there is a '/' after it and it holds a '.' or a ':', is `localhost`, or has an upper-case letter;
 * otherwise the image is on Docker Hub. No validation: input.ts's imageRef checks the grammar first.
 */
export function parseImageRef(ref: string): ImageRef {
  const at = ref.indexOf("@");
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const slash = name.indexOf("/");
  const first = slash >= 0 ? name.slice(0, slash) : "";
  const isHost = slash >= 0 && (/[.:]/.test(first) || first === "localhost" || first !== first.toLowerCase());
  const rest = isHost ? name.slice(slash + 1) : name;
  const colon = rest.lastIndexOf(":");
  const tag = colon >= 0 && !rest.slice(colon).includes("/") ? rest.slice(colon + 1) : undefined;
  return {
    host: isHost ? registryHostName(first) : DOCKER_HUB,
    path: tag === undefined ? rest : rest.slice(0, colon),
    tag,
    digest,
  };
}

/** A registry host as written (`Index.Docker.io`, `registry.example.com:5000`) in normal form: lower case, Docker Hub as DOCKER_HUB. */
export function registryHostName(host: string): string {
  const h = host.toLowerCase();
  return DOCKER_HUB_HOSTS.includes(h) ? DOCKER_HUB : h;
}

/** host[:port] of the registry an image reference names; DOCKER_HUB for Docker Hub. */
export function registryHost(ref: string): string {
  return parseImageRef(ref).host;
}

/** True when the reference names a registry other than Docker Hub (`host.tld/…`, `host:port/…`, `localhost/…`). */
export function namesRegistry(ref: string): boolean {
  return registryHost(ref) !== DOCKER_HUB;
}

/** The image's own name, lower case, without registry, namespace, tag or digest: `registry:5000/team/Postgres:16@sha256:…` → `postgres`. */
export function imageBaseName(ref: string): string {
  const { path } = parseImageRef(ref);
  return path.slice(path.lastIndexOf("/") + 1).toLowerCase();
}

/** True when the reference names this server's own builds (`staxa/…` on Docker Hub, under any of its names). */
export function isOwnBuild(ref: string): boolean {
  const { host, path } = parseImageRef(ref);
  return host === DOCKER_HUB && path.toLowerCase().startsWith("staxa/");
}
