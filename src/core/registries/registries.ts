// Registry credentials: create/list/get/update/delete (password sealed, never shown), verify as `docker login`
// does, browse repos and tags, and the credential the pipeline pulls an image with.
import type { Ctx } from "../context.ts";
import type { Principal } from "../identity/principal.ts";
import * as store from "../../store/registries.ts";
import type { RegistryRow } from "../../store/registries.ts";
import type { RegistryAuth } from "../../runtime/types.ts";
import { Invalid, Unprocessable, Upstream } from "../../lib/errors.ts";
import { newId, nowIso } from "../../lib/ids.ts";
import { checkOutboundUrl, ownPorts } from "../../lib/ssrf.ts";
import { DOCKER_HUB, DOCKER_HUB_INDEX, REPO_NAME_RE, registryHost, registryHostName } from "../../lib/image-ref.ts";
import { RegistryClient, mapLimit } from "./client.ts";

const TIMEOUT_MS = 15_000;
const PRINTABLE = /^[^\x00-\x1f\x7f]+$/;

export function registryView(r: RegistryRow) {
  return {
    id: r.id,
    name: r.name,
    registry_url: r.registry_url,
    username: r.username,
    verified: r.verified === 1,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

function text(v: unknown, field: string, max: number): string {
  if (typeof v !== "string" || v.length === 0 || v.length > max || !PRINTABLE.test(v))
    throw new Invalid(field, `${field} must be 1 to ${max} printable characters`);
  return v;
}

/** https (http only with STAXA_ALLOW_HTTP_REGISTRIES), no credentials in it, resolving to a public address unless allowed. */
export async function registryUrl(ctx: Ctx, v: unknown): Promise<string> {
  if (typeof v !== "string" || !/^https?:\/\//i.test(v))
    throw new Invalid("registry_url", "registry_url must be an https:// URL such as https://registry.example.com");
  const checked = await checkOutboundUrl(v, fetchOptions(ctx));
  if (checked.url.search || checked.url.hash) throw new Invalid("registry_url", "registry_url must not have a query or fragment");
  return v;
}

function fetchOptions(ctx: Ctx) {
  return {
    field: "registry_url",
    allowPrivate: ctx.config.allowPrivateTargets,
    allowHttp: ctx.config.allowHttpRegistries,
    ownPorts: ownPorts(ctx.config),
    timeoutMs: TIMEOUT_MS,
  };
}

export function listRegistries(ctx: Ctx, p: Principal): RegistryRow[] {
  return store.list(ctx.db, p.providerId, p.mode);
}

export function getRegistry(ctx: Ctx, p: Principal, id: string): RegistryRow {
  return store.get(ctx.db, p.providerId, p.mode, id);
}

export async function createRegistry(ctx: Ctx, p: Principal, b: Record<string, unknown>): Promise<RegistryRow> {
  const name = text(b.name, "name", 100);
  const username = text(b.username, "username", 255);
  const password = text(b.password, "password", 4096);
  const url = await registryUrl(ctx, b.registry_url);
  const now = nowIso();
  const row: RegistryRow = {
    id: newId("reg"),
    provider_id: p.providerId,
    mode: p.mode,
    name,
    registry_url: url,
    username,
    password_enc: ctx.box.seal(password),
    verified: 0,
    created_at: now,
    updated_at: now,
  };
  store.insert(ctx.db, row);
  return row;
}

/** Any change to the URL, username or password resets `verified`: the old proof no longer holds. */
export async function updateRegistry(ctx: Ctx, p: Principal, id: string, b: Record<string, unknown>): Promise<RegistryRow> {
  const row = store.get(ctx.db, p.providerId, p.mode, id);
  const patch: store.RegistryPatch = { updated_at: nowIso() };
  if (b.name !== undefined) patch.name = text(b.name, "name", 100);
  if (b.username !== undefined) patch.username = text(b.username, "username", 255);
  if (b.password !== undefined) patch.password_enc = ctx.box.seal(text(b.password, "password", 4096));
  if (b.registry_url !== undefined) patch.registry_url = await registryUrl(ctx, b.registry_url);
  if (patch.username !== undefined || patch.password_enc !== undefined || patch.registry_url !== undefined) patch.verified = 0;
  store.update(ctx.db, row.id, patch);
  return store.get(ctx.db, p.providerId, p.mode, id);
}

export function deleteRegistry(ctx: Ctx, p: Principal, id: string): void {
  store.get(ctx.db, p.providerId, p.mode, id);
  store.remove(ctx.db, p.providerId, p.mode, id);
}

function clientFor(ctx: Ctx, row: RegistryRow): RegistryClient {
  return new RegistryClient(
    { registryUrl: row.registry_url, username: row.username, password: ctx.box.open(row.password_enc) },
    fetchOptions(ctx),
  );
}

/** Logs in to the registry; records the outcome in `verified`. A refusal or an unreachable registry is a 422 saying which. */
export async function verifyRegistry(ctx: Ctx, p: Principal, id: string): Promise<{ status: "verified" }> {
  const row = store.get(ctx.db, p.providerId, p.mode, id);
  try {
    await clientFor(ctx, row).ping();
  } catch (e) {
    store.update(ctx.db, row.id, { verified: 0, updated_at: nowIso() });
    if (e instanceof Upstream) throw new Unprocessable("registry_unreachable", `Could not log in: ${e.message}`);
    throw e;
  }
  store.update(ctx.db, row.id, { verified: 1, updated_at: nowIso() });
  return { status: "verified" };
}

export function repoName(v: unknown): string {
  if (typeof v !== "string" || v.length > 255 || !REPO_NAME_RE.test(v))
    throw new Invalid("repo", "repo must be a registry repository name such as team/app (lower case, '/'-separated, no '..')");
  return v;
}

/** Repositories whose name contains `q`, with their tag counts. */
export async function listRepos(ctx: Ctx, p: Principal, id: string, q: { q?: string; limit?: number }) {
  const row = store.get(ctx.db, p.providerId, p.mode, id);
  const limit = q.limit ?? 25;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    throw new Invalid("limit", "limit must be an integer between 1 and 100");
  const needle = (q.q ?? "").toLowerCase();
  const client = clientFor(ctx, row);
  const names = (await client.catalog()).filter((n) => n.includes(needle)).slice(0, limit);
  return mapLimit(names, 8, async (name) => ({ name, tag_count: (await client.tags(name)).length }));
}

/** Tags of one repository with digest and size (first 100 tags). */
export async function listTags(ctx: Ctx, p: Principal, id: string, repo: unknown) {
  const row = store.get(ctx.db, p.providerId, p.mode, id);
  const name = repoName(repo);
  const client = clientFor(ctx, row);
  const tags = (await client.tags(name)).slice(0, 100);
  return mapLimit(tags, 8, async (tag) => ({ name: tag, ...(await client.manifest(name, tag)) }));
}

/** host[:port] a saved registry URL stands for, in the form registryHost (lib/image-ref.ts) returns. */
export function credentialHost(registryUrl: string): string {
  return registryHostName(new URL(registryUrl).host);
}

/** The pipeline's pull hook: the provider's credential (same mode) for the image's registry host, verified ones first. */
export function registryAuthFor(ctx: Ctx, providerId: string, mode: "live" | "test", imageRef: string): RegistryAuth | undefined {
  const host = registryHost(imageRef);
  const rows = store.list(ctx.db, providerId, mode).filter((r) => credentialHost(r.registry_url) === host);
  const row = rows.find((r) => r.verified === 1) ?? rows[0];
  if (!row) return undefined;
  return {
    serveraddress: host === DOCKER_HUB ? DOCKER_HUB_INDEX : host,
    username: row.username,
    password: ctx.box.open(row.password_enc),
  };
}

/**
 * True when some provider on this appliance holds a credential for the image's registry host: such an
 * image may be private, so a cached copy must not be started for a provider the registry never authorized.
 */
export function mayBePrivate(ctx: Ctx, imageRef: string): boolean {
  const host = registryHost(imageRef);
  return store.allUrls(ctx.db).some((u) => credentialHost(u) === host);
}
