// Dashboard identity: the first-admin setup (one-time token), built-in login issuing short-lived HS256
// JWTs, and the verifier that turns a dashboard JWT (built-in or OIDC) into a Principal.
import { randomBytes } from "node:crypto";
import type { Ctx } from "../context.ts";
import type { Db } from "../../store/db.ts";
import type { Mode, Principal } from "./principal.ts";
import * as users from "../../store/users.ts";
import * as settings from "../../store/settings.ts";
import * as providers from "../../store/providers.ts";
import { sha256Hex, safeEqual, type SecretBox } from "../../lib/crypto.ts";
import { newId, nowIso, randomAlnum } from "../../lib/ids.ts";
import { Conflict, Invalid, Unauthorized } from "../../lib/errors.ts";
import { ensureProvider, normalizeEmail, normalizeName } from "./accounts.ts";
import { checkClaims, createOidcVerifier, decodeJwt, signHs256, verifyHs256, type JwtParts } from "./jwt.ts";

export const SESSION_ISSUER = "staxa";
export const SESSION_AUDIENCE = "staxa-dashboard";
const SETUP_HASH = "setup_token_hash";
const SIGNING_KEY = "session_signing_key";
const MIN_PASSWORD = 10;

/** Who a verified dashboard JWT speaks for, before it is tied to a provider. */
export interface Identity {
  via: "session" | "jwt";
  email: string;
  subject: string;
  userId?: string;
  providerId?: string;
}

/** A dashboard-JWT verifier (for ApiDeps.verifyJwt) that can also just identify (for POST /register). */
export interface JwtVerifier {
  /** Synchronous: an OIDC token's key must have been loaded by `prepare` first, or it is refused. */
  (token: string, mode: Mode): Principal;
  /**
   * A promise while verifying `token` needs I/O first (its OIDC issuer's JWKS), else undefined. Absent
   * when no OIDC issuer is configured: built-in sessions never wait.
   */
  prepare?: (token: string) => Promise<void> | undefined;
  identify(token: string): Promise<Identity>;
}

export function setupRequired(db: Db): boolean {
  return users.count(db) === 0;
}

/**
 * Called by `serve` at start-up: while no user exists, a fresh one-time setup token is made (only its
 * hash is stored) and returned for printing; once a user exists, undefined and any old hash is gone.
 */
export function ensureSetupToken(ctx: Pick<Ctx, "db">): string | undefined {
  if (!setupRequired(ctx.db)) {
    settings.remove(ctx.db, SETUP_HASH);
    return undefined;
  }
  const token = `stx_setup_${randomAlnum(32)}`;
  settings.upsert(ctx.db, SETUP_HASH, sha256Hex(token));
  return token;
}

/**
 * The HS256 key of built-in sessions, one per context (ctx.sessionKey): made once, sealed with the data
 * dir's key in the store, and read from it on first use only.
 */
export class SessionKey {
  private key: Uint8Array | undefined;

  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
  ) {}

  get(): Uint8Array {
    if (!this.key) {
      settings.insertIfMissing(this.db, SIGNING_KEY, this.box.seal(randomBytes(32).toString("base64")));
      this.key = Buffer.from(this.box.open(settings.find(this.db, SIGNING_KEY)!), "base64");
    }
    return this.key;
  }
}

/** A session JWT for a user: iss "staxa", aud "staxa-dashboard", lifetime config.sessionTtlSec. */
export function issueSession(ctx: Pick<Ctx, "sessionKey" | "config" | "now">, user: users.UserRow) {
  const iat = Math.floor(ctx.now().getTime() / 1000);
  const exp = iat + ctx.config.sessionTtlSec;
  const claims = { iss: SESSION_ISSUER, aud: SESSION_AUDIENCE, sub: user.id, email: user.email, pid: user.provider_id, iat, exp };
  return { token: signHs256(claims, ctx.sessionKey.get()), expires_at: nowIso(new Date(exp * 1000)) };
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD) throw new Invalid("password", `password must be at least ${MIN_PASSWORD} characters`);
  if (password.length > 1024) throw new Invalid("password", "password must be at most 1024 characters");
}

/** Creates the first admin (user + provider) with the one-time setup token; the token then dies. */
export async function setupAdmin(ctx: Ctx, input: { token: string; email: string; password: string; name?: string }) {
  if (!setupRequired(ctx.db)) throw new Conflict("Setup is already complete", {}, "already_set_up");
  const stored = settings.find(ctx.db, SETUP_HASH);
  if (!stored || !safeEqual(sha256Hex(input.token), stored)) throw new Unauthorized("Invalid setup token");
  const email = normalizeEmail(input.email);
  const name = input.name === undefined ? null : normalizeName(input.name);
  checkPassword(input.password);
  const password_hash = await Bun.password.hash(input.password, { algorithm: "argon2id" });
  const user = ctx.db.transaction(() => {
    // Checked again inside the transaction: two concurrent setups cannot both win.
    if (!setupRequired(ctx.db)) throw new Conflict("Setup is already complete", {}, "already_set_up");
    const { provider } = ensureProvider(ctx.db, { email, name });
    const row: users.UserRow = {
      id: newId("usr"),
      provider_id: provider.id,
      email,
      password_hash,
      role: "admin",
      created_at: nowIso(),
    };
    users.insert(ctx.db, row);
    settings.remove(ctx.db, SETUP_HASH);
    return row;
  })();
  return { user: { id: user.id, email: user.email, provider_id: user.provider_id }, ...issueSession(ctx, user) };
}

// Verified against when the email is unknown, so both failures cost one argon2 verification.
let dummyHash: Promise<string> | undefined;

/** Email + password → a session JWT. Unknown email and wrong password get the same 401. */
export async function login(ctx: Ctx, input: { email: string; password: string }) {
  const user = users.findByEmail(ctx.db, input.email.trim().toLowerCase());
  dummyHash ??= Bun.password.hash(randomAlnum(24), { algorithm: "argon2id" });
  const hash = user?.password_hash ?? (await dummyHash);
  const ok = await Bun.password.verify(input.password, hash).catch(() => false);
  if (!user || !ok) throw new Unauthorized("Invalid email or password");
  return issueSession(ctx, user);
}

/** Verifies a built-in session token; the user must still exist. */
function verifySession(ctx: Ctx, parts: JwtParts): Identity {
  if (!verifyHs256(parts, ctx.sessionKey.get())) throw new Unauthorized("Invalid token signature");
  checkClaims(parts.payload, {
    issuer: SESSION_ISSUER,
    audience: SESSION_AUDIENCE,
    nowSec: Math.floor(ctx.now().getTime() / 1000),
  });
  const user = typeof parts.payload.sub === "string" ? users.find(ctx.db, parts.payload.sub) : undefined;
  if (!user) throw new Unauthorized("Session user no longer exists");
  return { via: "session", email: user.email, subject: user.id, userId: user.id, providerId: user.provider_id };
}

/**
 * The dashboard-JWT verifier: HS256 tokens are only ever built-in sessions (checked with our own secret),
 * RS256/ES256 only ever OIDC tokens (checked against the configured JWKS); anything else is refused.
 * An OIDC identity maps to the provider registered with its `email` claim, only when `email_verified` is true.
 */
export function createJwtVerifier(ctx: Ctx, opts: { fetch?: typeof fetch } = {}): JwtVerifier {
  const c = ctx.config;
  const oidc = c.jwtJwksUrl
    ? createOidcVerifier(
        { jwksUrl: c.jwtJwksUrl, issuer: c.jwtIssuer, audience: c.jwtAudience },
        { fetch: opts.fetch, nowMs: () => ctx.now().getTime() },
      )
    : undefined;
  if (oidc && !c.jwtIssuer) ctx.log.warn("STAXA_JWT_JWKS_URL is set without STAXA_JWT_ISSUER: OIDC tokens are refused");

  const identifySync = (token: string): Identity => {
    const parts = decodeJwt(token);
    if (parts.header.alg === "HS256") return verifySession(ctx, parts);
    if (!oidc) throw new Unauthorized("Token algorithm not accepted");
    const claims = oidc.verify(parts);
    if (typeof claims.email !== "string" || !claims.email) throw new Unauthorized("Token carries no email claim");
    // The email is what binds the token to a provider (and what POST /register claims): an address the
    // issuer has not verified may belong to someone else, so only a literal `email_verified: true` counts.
    if (claims.email_verified !== true) throw new Unauthorized("Token's email is not verified by the issuer");
    return { via: "jwt", email: claims.email.toLowerCase(), subject: String(claims.sub ?? "") };
  };
  const prepare = (token: string): Promise<void> | undefined => {
    let parts: JwtParts;
    try {
      parts = decodeJwt(token);
    } catch {
      return undefined; // malformed: refused without I/O
    }
    return parts.header.alg === "HS256" ? undefined : oidc?.prepare(parts);
  };
  const identify = async (token: string): Promise<Identity> => {
    await prepare(token)?.catch(() => undefined); // a failed fetch is reported by identifySync
    return identifySync(token);
  };

  const principalOf = (id: Identity, mode: Mode): Principal => {
    const providerId = id.providerId ?? providers.findByEmail(ctx.db, id.email)?.id;
    if (!providerId) throw new Unauthorized("No account for this identity: POST /api/v1/register first");
    return { providerId, mode, scopes: ["*"], via: id.via, userId: id.userId };
  };
  const verifier = ((token: string, mode: Mode): Principal => principalOf(identifySync(token), mode)) as JwtVerifier;
  if (oidc) verifier.prepare = prepare;
  verifier.identify = identify;
  return verifier;
}
