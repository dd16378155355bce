// JWTs: compact-JWS parsing, HS256 for the built-in sessions, and RS256/ES256 verification against an
// OIDC issuer's JWKS (Clerk works unchanged). Only these algorithms are ever accepted; `none` never is.
import { createHmac, createPublicKey, verify as verifySignature, type KeyObject } from "node:crypto";
import { safeEqual } from "../../lib/crypto.ts";
import { Unauthorized, Upstream } from "../../lib/errors.ts";

export type Claims = Record<string, unknown>;

export interface JwtParts {
  header: { alg?: unknown; kid?: unknown; typ?: unknown };
  payload: Claims;
  signingInput: string;
  signature: Buffer;
}

/** Clock skew tolerated on exp/nbf/iat, in seconds. */
export const LEEWAY_SEC = 30;
const REFETCH_MIN_MS = 60_000;

export function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

function parseSegment(seg: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]+$/.test(seg)) throw new Unauthorized("Malformed token");
  try {
    const v = JSON.parse(Buffer.from(seg, "base64url").toString("utf8"));
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error();
    return v;
  } catch {
    throw new Unauthorized("Malformed token");
  }
}

/** Splits and decodes a compact JWS without verifying it. */
export function decodeJwt(token: string): JwtParts {
  const segs = token.split(".");
  if (segs.length !== 3 || token.length > 16_384) throw new Unauthorized("Malformed token");
  const [h, p, s] = segs;
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new Unauthorized("Malformed token");
  return { header: parseSegment(h), payload: parseSegment(p), signingInput: `${h}.${p}`, signature: Buffer.from(s, "base64url") };
}

/** Signs claims with HS256 (the built-in session tokens). */
export function signHs256(claims: Claims, secret: Uint8Array): string {
  const input = `${b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(createHmac("sha256", secret).update(input).digest())}`;
}

/** True when `parts` carries a valid HS256 signature made with `secret`. */
export function verifyHs256(parts: JwtParts, secret: Uint8Array): boolean {
  if (parts.header.alg !== "HS256") return false;
  const expected = createHmac("sha256", secret).update(parts.signingInput).digest("base64url");
  return safeEqual(expected, parts.signature.toString("base64url"));
}

/** Checks exp (required), nbf, iss and aud; throws Unauthorized naming what failed. */
export function checkClaims(c: Claims, want: { issuer: string; audience?: string; nowSec: number }): void {
  if (typeof c.exp !== "number") throw new Unauthorized("Token has no expiry");
  if (c.exp + LEEWAY_SEC <= want.nowSec) throw new Unauthorized("Token expired");
  if (c.nbf !== undefined && (typeof c.nbf !== "number" || c.nbf - LEEWAY_SEC > want.nowSec))
    throw new Unauthorized("Token not yet valid");
  if (typeof c.iat === "number" && c.iat - LEEWAY_SEC > want.nowSec) throw new Unauthorized("Token issued in the future");
  if (c.iss !== want.issuer) throw new Unauthorized("Token issuer not accepted");
  if (want.audience) {
    const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
    if (!aud.includes(want.audience)) throw new Unauthorized("Token audience not accepted");
  }
}

interface Jwk {
  kid?: string;
  kty?: string;
  alg?: string;
  use?: string;
  crv?: string;
}

/** The keys of one JWKS URL: fetched lazily, refetched on an unknown kid at most once a minute. */
export class JwksCache {
  private keys = new Map<string, { jwk: Jwk; key: KeyObject }>();
  private fetchedAt = -Infinity;
  private inflight?: Promise<void>;
  // Why the last fetch failed (cleared by a good one): an unknown key id is then the issuer being
  // unreachable, not a bad token.
  private failure?: Upstream;

  constructor(
    private readonly url: string,
    private readonly fetchFn: typeof fetch = fetch,
    private readonly nowMs: () => number = Date.now,
  ) {}

  private async refresh(): Promise<void> {
    this.fetchedAt = this.nowMs();
    let body: { keys?: unknown };
    try {
      const res = await this.fetchFn(this.url, { signal: AbortSignal.timeout(5000), redirect: "error" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = (await res.json()) as { keys?: unknown };
    } catch (err) {
      this.failure = new Upstream("jwks", `could not fetch the JWKS: ${(err as Error).message}`);
      throw this.failure;
    }
    const next = new Map<string, { jwk: Jwk; key: KeyObject }>();
    for (const jwk of Array.isArray(body.keys) ? (body.keys as Jwk[]) : []) {
      if (!jwk || typeof jwk.kid !== "string" || (jwk.use && jwk.use !== "sig")) continue;
      try {
        next.set(jwk.kid, { jwk, key: createPublicKey({ key: jwk as never, format: "jwk" }) });
      } catch {
        // A key we cannot read is skipped; a token naming it then fails as an unknown kid.
      }
    }
    this.keys = next;
    this.failure = undefined;
  }

  /**
   * A promise while `kid` is unknown and the JWKS may be fetched (again) for it, else undefined: after
   * it settles, key() answers from memory. Fetches are at least REFETCH_MIN_MS apart, shared by callers.
   */
  load(kid: string): Promise<void> | undefined {
    if (this.keys.has(kid)) return undefined;
    if (!this.inflight && this.nowMs() - this.fetchedAt < REFETCH_MIN_MS) return undefined;
    this.inflight ??= this.refresh().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  /** The public key for `kid` from memory; throws Unauthorized when the issuer does not publish it. */
  key(kid: string): { jwk: Jwk; key: KeyObject } {
    const hit = this.keys.get(kid);
    if (!hit) throw this.failure ?? new Unauthorized("Token signed by an unknown key");
    return hit;
  }
}

/** Verifies an RS256 or ES256 signature with a key whose type fits the algorithm. */
function verifyAsymmetric(parts: JwtParts, alg: string, k: { jwk: Jwk; key: KeyObject }): boolean {
  if (k.jwk.alg && k.jwk.alg !== alg) return false;
  const data = Buffer.from(parts.signingInput);
  if (alg === "RS256") {
    return k.key.asymmetricKeyType === "rsa" && verifySignature("sha256", data, k.key, parts.signature);
  }
  if (alg === "ES256") {
    if (k.key.asymmetricKeyType !== "ec" || k.key.asymmetricKeyDetails?.namedCurve !== "prime256v1") return false;
    return (
      parts.signature.length === 64 && verifySignature("sha256", data, { key: k.key, dsaEncoding: "ieee-p1363" }, parts.signature)
    );
  }
  return false;
}

export interface OidcSettings {
  jwksUrl: string;
  issuer: string;
  audience?: string;
}

/**
 * A verifier of OIDC tokens. `prepare` is the only part that waits: a promise while the token's key must
 * first be fetched from the issuer's JWKS, else undefined. `verify` then answers from memory: the claims,
 * or Unauthorized (Upstream when the issuer could not be reached for an unknown key).
 */
export function createOidcVerifier(s: OidcSettings, opts: { fetch?: typeof fetch; nowMs?: () => number } = {}) {
  const nowMs = opts.nowMs ?? Date.now;
  const jwks = new JwksCache(s.jwksUrl, opts.fetch, nowMs);
  const kidOf = (parts: JwtParts): string => {
    const alg = parts.header.alg;
    if (alg !== "RS256" && alg !== "ES256") throw new Unauthorized("Token algorithm not accepted");
    if (typeof parts.header.kid !== "string" || !parts.header.kid) throw new Unauthorized("Token has no key id");
    // Fail closed: without a configured issuer no OIDC token is trusted.
    if (!s.issuer) throw new Unauthorized("OIDC issuer not configured");
    return parts.header.kid;
  };
  return {
    prepare(parts: JwtParts): Promise<void> | undefined {
      try {
        return jwks.load(kidOf(parts));
      } catch {
        return undefined; // verify refuses it, without any I/O
      }
    },
    verify(parts: JwtParts): Claims {
      const key = jwks.key(kidOf(parts));
      const alg = parts.header.alg as string;
      if (!verifyAsymmetric(parts, alg, key)) throw new Unauthorized("Invalid token signature");
      checkClaims(parts.payload, { issuer: s.issuer, audience: s.audience || undefined, nowSec: Math.floor(nowMs() / 1000) });
      return parts.payload;
    },
  };
}
