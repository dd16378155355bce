// API keys: format, checksum, hashing, verification. `sk_<mode>_<30 random><6 checksum>`, like GitHub's tokens:
// the CRC32 suffix lets a leaked key be recognised offline; only the SHA-256 hash is stored.
import { randomAlnum, newId, nowIso } from "../lib/ids.ts";
import { sha256Hex } from "../lib/crypto.ts";
import { Unauthorized } from "../lib/errors.ts";
import type { Db } from "../store/db.ts";
import * as apiKeys from "../store/api-keys.ts";
import type { Mode, Principal } from "./principal.ts";

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

export function hashKey(raw: string): string {
  return sha256Hex(raw);
}

/**
 * Resolves a raw key to its principal. Unknown, malformed, revoked and expired keys all get the
 * same answer. The lookup is by hash (an index), so no secret comparison happens in user time.
 */
export function authenticateKey(db: Db, raw: string, now: Date): Principal {
  if (!isWellFormedKey(raw)) throw new Unauthorized("Invalid API key");
  const row = apiKeys.findByHash(db, hashKey(raw));
  if (!row || (row.expires_at && Date.parse(row.expires_at) <= now.getTime())) throw new Unauthorized("Invalid API key");
  return { providerId: row.provider_id, mode: row.mode, scopes: JSON.parse(row.scopes), via: "key", keyId: row.id };
}

/** Creates a key row and returns the raw key (shown once). */
export function createKey(db: Db, input: { providerId: string; name: string; mode: Mode; scopes: string[]; expiresAt: string | null }) {
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
