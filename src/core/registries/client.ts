// The Docker Registry HTTP API v2 as Docker speaks it: /v2/ ping, then Basic auth or the Bearer token flow the
// WWW-Authenticate challenge announces; _catalog, tags/list and manifests. Every request goes through safeFetch.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { Invalid, NotFound, Unprocessable, Upstream } from "../../lib/errors.ts";
import { safeFetch, type SafeFetchOptions } from "../../lib/ssrf.ts";
import { DOCKER_HUB, DOCKER_HUB_API, REPO_NAME_RE, TAG_RE, registryHostName } from "../../lib/image-ref.ts";

export interface RegistryCreds {
  /** The saved registry_url (Docker Hub's https://index.docker.io/v1/ included). */
  registryUrl: string;
  username: string;
  password: string;
}

const MANIFEST_TYPES = [
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
].join(", ");

/** Origin of the v2 API for a saved registry URL: Docker Hub's v1 index URL maps to registry-1.docker.io. */
export function apiBase(registryUrl: string): string {
  const u = new URL(registryUrl);
  return registryHostName(u.hostname) === DOCKER_HUB ? DOCKER_HUB_API : u.origin;
}

/** Extra roots from NODE_EXTRA_CA_CERTS, read per call so a file set after start-up (tests) counts too. */
function extraCa(): string | undefined {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (!file) return undefined;
  try {
    return [...rootCertificates, readFileSync(file, "utf8")].join("\n");
  } catch {
    return undefined;
  }
}

/** A parsed WWW-Authenticate challenge: `Basic realm=…` or `Bearer realm=…,service=…,scope=…`. */
export function parseChallenge(header: string | null): { scheme: string; params: Record<string, string> } | undefined {
  const m = header ? /^\s*(\w+)\s*(.*)$/.exec(header) : null;
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)\s*=\s*(?:"([^"]*)"|([^,\s]*))/g)) params[p[1]!.toLowerCase()] = p[2] ?? p[3] ?? "";
  return { scheme: m[1]!.toLowerCase(), params };
}

export class RegistryClient {
  private readonly base: string;
  private readonly basic: string;
  /** Authorization per scope once a challenge was answered ("" = the catalog/ping scope). */
  private readonly authz = new Map<string, string>();

  constructor(
    private readonly creds: RegistryCreds,
    private readonly opts: SafeFetchOptions,
  ) {
    this.base = apiBase(creds.registryUrl);
    this.basic = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
  }

  private fetch(url: string, headers: Record<string, string>, maxBytes = 4 << 20): Promise<Response> {
    const ca = extraCa();
    return safeFetch(url, { headers }, { ...this.opts, maxBytes, ...(ca ? { ca } : {}) }).catch((e) => {
      if (e instanceof Invalid || e instanceof Upstream) throw e;
      throw new Upstream(
        "registry",
        `could not reach ${new URL(url).host}: ${(e as Error).message.replace(/https?:\/\/\S+/g, "")}`,
      );
    });
  }

  /** GET with the auth flow: try cached auth, answer a 401 challenge once, surface a second 401 as refused credentials. */
  private async get(path: string, scope: string, accept?: string): Promise<Response> {
    const url = `${this.base}${path}`;
    const headers = (a?: string): Record<string, string> => ({
      ...(a ? { authorization: a } : {}),
      ...(accept ? { accept } : {}),
    });
    let res = await this.fetch(url, headers(this.authz.get(scope)));
    if (res.status !== 401) return res;
    const challenge = parseChallenge(res.headers.get("www-authenticate"));
    const answer = challenge?.scheme === "bearer" ? await this.bearer(challenge.params, scope) : this.basic;
    this.authz.set(scope, answer);
    res = await this.fetch(url, headers(answer));
    if (res.status === 401)
      throw new Unprocessable(
        "registry_auth_failed",
        `The registry at ${new URL(this.base).host} refused the username or password`,
      );
    return res;
  }

  /** Docker's token flow: GET realm?service=…&scope=… with Basic credentials → {token | access_token}. */
  private async bearer(params: Record<string, string>, scope: string): Promise<string> {
    if (!params.realm) throw new Upstream("registry", "the Bearer challenge names no realm");
    const realm = new URL(params.realm);
    if (params.service) realm.searchParams.set("service", params.service);
    const wanted = scope || params.scope;
    if (wanted) realm.searchParams.set("scope", wanted);
    const res = await this.fetch(realm.toString(), { authorization: this.basic }, 1 << 20);
    if (res.status === 401 || res.status === 403)
      throw new Unprocessable("registry_auth_failed", `The registry's token service refused the username or password`);
    if (res.status !== 200) throw new Upstream("registry", `the token service answered HTTP ${res.status}`);
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (typeof token !== "string" || !token) throw new Upstream("registry", "the token service answered without a token");
    return `Bearer ${token}`;
  }

  private async json(path: string, scope: string, what: string): Promise<any> {
    const res = await this.get(path, scope);
    if (res.status === 404) throw new NotFound(what);
    if (res.status === 403)
      throw new Unprocessable("registry_access_denied", `The credential may not read ${what.toLowerCase()}`);
    if (res.status !== 200) throw new Upstream("registry", `GET ${path.split("?")[0]} answered HTTP ${res.status}`);
    return res.json().catch(() => {
      throw new Upstream("registry", `GET ${path.split("?")[0]} answered something other than JSON`);
    });
  }

  /** Logs in as `docker login` does: /v2/ answers 200 with the credentials. */
  async ping(): Promise<void> {
    const res = await this.get("/v2/", "");
    if (res.status !== 200)
      throw new Unprocessable("registry_unreachable", `${this.base}/v2/ answered HTTP ${res.status}; is this a Docker registry?`);
  }

  /** Repository names from _catalog, following its Link pagination up to `max`. */
  async catalog(max = 1000): Promise<string[]> {
    const out: string[] = [];
    let path: string | undefined = `/v2/_catalog?n=${Math.min(max, 1000)}`;
    for (let page = 0; path && page < 20 && out.length < max; page++) {
      const res = await this.get(path, "registry:catalog:*");
      if (res.status !== 200) throw new Upstream("registry", `GET /v2/_catalog answered HTTP ${res.status}`);
      const body = (await res.json().catch(() => ({}))) as { repositories?: unknown };
      for (const r of Array.isArray(body.repositories) ? body.repositories : [])
        if (typeof r === "string" && REPO_NAME_RE.test(r)) out.push(r);
      const next = /<([^>]+)>;\s*rel="?next"?/.exec(res.headers.get("link") ?? "")?.[1];
      path = next && next.startsWith("/v2/_catalog?") ? next : undefined;
    }
    return out.slice(0, max);
  }

  async tags(repo: string): Promise<string[]> {
    const body = await this.json(`/v2/${repo}/tags/list`, `repository:${repo}:pull`, "Repository");
    return (Array.isArray(body?.tags) ? body.tags : []).filter(
      (t: unknown): t is string => typeof t === "string" && TAG_RE.test(t),
    );
  }

  /** Digest (Docker-Content-Digest, else sha256 of the bytes) and size (config + layers; an index's first linux/amd64 image). */
  async manifest(repo: string, reference: string): Promise<{ digest: string; size: number }> {
    const scope = `repository:${repo}:pull`;
    const res = await this.get(`/v2/${repo}/manifests/${reference}`, scope, MANIFEST_TYPES);
    if (res.status === 404) throw new NotFound("Tag");
    if (res.status !== 200) throw new Upstream("registry", `GET manifest ${reference} answered HTTP ${res.status}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const digest = res.headers.get("docker-content-digest") ?? `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    const m = JSON.parse(bytes.toString("utf8"));
    if (Array.isArray(m.manifests)) {
      const pick =
        m.manifests.find((x: any) => x.platform?.os === "linux" && x.platform?.architecture === "amd64") ?? m.manifests[0];
      const child =
        pick?.digest && /^sha256:[0-9a-f]{64}$/.test(pick.digest) ? await this.manifest(repo, pick.digest) : { size: 0 };
      return { digest, size: child.size };
    }
    const size =
      (Number(m.config?.size) || 0) +
      (Array.isArray(m.layers) ? m.layers.reduce((n: number, l: any) => n + (Number(l.size) || 0), 0) : 0);
    return { digest, size };
  }
}

/** Runs `fn` over `items` with at most `n` at once, keeping order. */
export async function mapLimit<T, R>(items: T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}
