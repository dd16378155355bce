// API keys: format, checksum, hashing, verification. `sk_<mode>_<30 random><6 checksum>`, like GitHub's tokens:
// the CRC32 suffix lets a leaked key be recognised offline; only the SHA-256 hash is stored.
import { randomAlnum, newId, nowIso } from "../../lib/ids.ts";
import { Forbidden, Invalid, NotFound, Unauthorized } from "../../lib/errors.ts";
import type { Db } from "../../store/db.ts";
import * as apiKeys from "../../store/api-keys.ts";
import { hasScope, SCOPES, type Mode, type Principal, type Scope } from "./principal.ts";

const B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const KEY_RE = /^sk_(live|test)_([0-9A-Za-z]{30})([0-9A-Za-z]{6})$/;

function crc32(s: string): number {
  let c = ~0;
  for (let i = 0; i < s.length; i++) {
    c ^= s.charCodeAt(i);
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function base62(n: number, width: number): string {
  let out = "";
  for (let i = 0; i < width; i++) {
    out = B62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/** A new raw key for `mode`. */
export function generateKey(mode: Mode): string {
  const body = randomAlnum(30, B62);
  return `sk_${mode}_${body}${base62(crc32(body), 6)}`;
}

/** True when the key has the right shape and its checksum matches (no database needed). */
export function isWellFormedKey(raw: string): boolean {
  const m = KEY_RE.exec(raw);
  return !!m && base62(crc32(m[2]), 6) === m[3];
}

/** Display prefix, as in the reference: `sk_live_a1b2`. */
export function keyPrefix(raw: string): string {
  return raw.slice(0, 12);
}

/** SHA-256 hex of the raw key (Bun's one-shot native hasher: the same digest as lib/crypto's, a third of the cost). */
export function hashKey(raw: string): string {
  return Bun.SHA256.hash(raw, "hex");
}

// Almost every key carries the same few scope lists: parse each distinct JSON text once (hot auth path).
const scopeCache = new Map<string, string[]>();
function parseScopes(json: string): string[] {
  let scopes = scopeCache.get(json);
  if (!scopes) {
    scopes = Object.freeze(JSON.parse(json) as string[]) as string[];
    if (scopeCache.size < 1000) scopeCache.set(json, scopes);
  }
  return scopes;
}

/** How long a key resolved from the store is trusted before the store is asked again (see authenticateKey). */
export const KEY_RECHECK_MS = 1000;
const KEY_CACHE_MAX = 10_000;

interface CachedKey {
  principal: Principal;
  expiresAtMs: number; // Infinity when the key never expires
  checkedAt: number; // performance.now() of the last store read
}

/**
 * Keys the store resolved recently, one cache per context (ctx.keys): key hash -> what the store said.
 * Only keys that exist are kept, so a made-up key always reaches the store and the cache cannot be
 * filled by an attacker.
 */
export class KeyCache {
  private readonly entries = new Map<string, CachedKey>();

  get(hash: string): CachedKey | undefined {
    return this.entries.get(hash);
  }

  set(hash: string, entry: CachedKey): void {
    if (this.entries.size >= KEY_CACHE_MAX) this.entries.clear();
    this.entries.set(hash, entry);
  }

  delete(hash: string): void {
    this.entries.delete(hash);
  }

  /** Forgets a key the store no longer has, so its next request is refused. */
  forget(keyId: string): void {
    for (const [hash, entry] of this.entries) if (entry.principal.keyId === keyId) this.entries.delete(hash);
  }
}

/**
 * Resolves a raw key to its principal. Unknown, malformed, revoked and expired keys all get the
 * same answer. The lookup is by hash (an index), so no secret comparison happens in user time.
 * A found key is remembered for KEY_RECHECK_MS (every request skips the store read, the hot path's
 * main cost); expiry is still checked on every request, a key deleted through deleteKey stops on
 * the very next request, and one deleted by another process (the CLI, a restore) within KEY_RECHECK_MS.
 */
export function authenticateKey(ctx: { db: Db; keys: KeyCache }, raw: string, now: Date): Principal {
  if (!KEY_RE.test(raw)) throw new Unauthorized("Invalid API key");
  const hash = hashKey(raw);
  const cache = ctx.keys;
  const t = performance.now();
  let hit = cache.get(hash);
  if (!hit || t - hit.checkedAt >= KEY_RECHECK_MS) {
    // The checksum is only worth checking before a store read: a cached hash is a key that passed it.
    if (!isWellFormedKey(raw)) throw new Unauthorized("Invalid API key");
    const row = apiKeys.findAuthByHash(ctx.db, hash);
    if (!row) {
      cache.delete(hash);
      throw new Unauthorized("Invalid API key");
    }
    const principal: Principal = Object.freeze({
      providerId: row.provider_id,
      mode: row.mode,
      scopes: parseScopes(row.scopes),
      via: "key" as const,
      keyId: row.id,
    });
    hit = { principal, expiresAtMs: row.expires_at ? Date.parse(row.expires_at) : Infinity, checkedAt: t };
    cache.set(hash, hit);
  }
  if (hit.expiresAtMs <= now.getTime()) throw new Unauthorized("Invalid API key");
  return hit.principal;
}

/** Creates a key row and returns the raw key (shown once). */
export function createKey(
  db: Db,
  input: { providerId: string; name: string; mode: Mode; scopes: string[]; expiresAt: string | null },
) {
  const raw = generateKey(input.mode);
  const row: apiKeys.ApiKeyRow = {
    id: newId("key"),
    provider_id: input.providerId,
    name: input.name,
    prefix: keyPrefix(raw),
    hash: hashKey(raw),
    mode: input.mode,
    scopes: JSON.stringify(input.scopes),
    expires_at: input.expiresAt,
    last_used_at: null,
    created_at: nowIso(),
  };
  apiKeys.insert(db, row);
  return { row, raw };
}

/** What the API shows of a key: the prefix, never the key or its hash. */
export function keyView(row: apiKeys.ApiKeyRow) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    mode: row.mode,
    scopes: parseScopes(row.scopes),
    expires_at: row.expires_at,
    created_at: row.created_at,
  };
}

export interface NewKeyInput {
  name: string;
  mode?: string;
  scopes?: string[];
  expires_at?: string | null;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;

/** Parses an ISO 8601 date-time strictly; undefined when it is not one. */
export function parseIsoDate(value: string): Date | undefined {
  if (!ISO_8601.test(value)) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Keys of the caller's provider in the caller's mode, newest first. */
export function listKeys(db: Db, caller: Principal) {
  return apiKeys.list(db, caller.providerId, caller.mode).map(keyView);
}

/**
 * Creates a key for the caller's provider. Rules: the mode defaults to the caller's; a live credential
 * (full access, as in the reference) creates either mode, a test credential only test keys (a test key can
 * never mint a live one); every scope must be known, and the caller must hold it (no escalation); an
 * expiry must be in the future.
 */
export function createKeyFor(db: Db, caller: Principal, input: NewKeyInput, now: Date) {
  const name = input.name.trim();
  if (!name) throw new Invalid("name", "name must not be empty");
  if (name.length > 100) throw new Invalid("name", "name must be at most 100 characters");
  const mode = input.mode ?? caller.mode;
  if (mode !== "live" && mode !== "test") throw new Invalid("mode", 'mode must be "live" or "test"');
  if (caller.mode === "test" && mode !== "test") throw new Invalid("mode", "a test credential can only create test keys");
  const scopes = [...new Set(input.scopes ?? ["*"])];
  if (scopes.length === 0) throw new Invalid("scopes", "scopes must not be empty");
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown.length) throw new Invalid("scopes", `unknown scope "${String(unknown[0]).slice(0, 64)}"`, { allowed: SCOPES });
  const missing = scopes.filter((s) => !hasScope(caller.scopes, s as Scope));
  if (missing.length) {
    throw new Forbidden("insufficient_scope", `A key cannot grant scopes it does not hold: ${missing.join(", ")}`, {
      scopes: missing,
    });
  }
  let expiresAt: string | null = null;
  if (input.expires_at !== undefined && input.expires_at !== null) {
    const d = parseIsoDate(input.expires_at);
    if (!d) throw new Invalid("expires_at", "expires_at must be an ISO 8601 date-time, e.g. 2030-01-01T00:00:00Z");
    if (d.getTime() <= now.getTime()) throw new Invalid("expires_at", "expires_at must be in the future");
    expiresAt = nowIso(d);
  }
  const { row, raw } = createKey(db, { providerId: caller.providerId, name, mode, scopes, expiresAt });
  return { ...keyView(row), key: raw };
}

/** Deletes a key of the caller's provider and mode; takes effect on the next request (the key cache forgets it). */
export function deleteKey(ctx: { db: Db; keys: KeyCache }, caller: Principal, id: string): void {
  const removed = apiKeys.remove(ctx.db, caller.providerId, id, caller.mode);
  ctx.keys.forget(id);
  if (!removed) throw new NotFound("API key");
}
