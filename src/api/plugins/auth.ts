// Authentication and scopes. Routes declare `{ scope: "tenants:read" }`; the macro resolves the caller
// (API key, or a dashboard JWT) to a Principal and refuses a missing scope with 403 insufficient_scope.
import { Elysia } from "elysia";
import { Forbidden, Unauthorized } from "../../lib/errors.ts";
import { authenticateKey, type KeyCache } from "../../core/identity/keys.ts";
import { hasScope, type Principal, type Scope } from "../../core/identity/principal.ts";
import type { Db } from "../../store/db.ts";
import type { JwtVerifier } from "../../core/identity/sessions.ts";
import { limitExceeded, type Limit, type RateLimiter } from "./rate-limit.ts";
import { clientIp } from "./root-app.ts";

export interface AuthDeps {
  db: Db;
  keys: KeyCache;
  now: () => Date;
  /** Verifies a dashboard JWT (built-in login or OIDC); undefined when none is configured. */
  verifyJwt?: JwtVerifier;
  /** When given, failed authentications are also counted per client IP (see AUTH_FAILURES). */
  limiter?: RateLimiter;
}

/**
 * Failed authentications allowed per IP and minute (times the limiter's scale). The route limits are
 * keyed by credential, so without this an attacker rotating made-up keys would never hit a limit. The IP
 * is the socket's peer address: Authorization, X-Forwarded-For and Forwarded are the client's to invent.
 */
export const AUTH_FAILURES: Limit = { name: "auth.failed", limit: 30, what: "failed authentications from one address" };

/** Bearer token of the Authorization header, or throws 401. */
export function bearerToken(header: string | null): string {
  const m = header ? /^Bearer ([^\s]+)$/.exec(header) : null;
  if (!m) throw new Unauthorized("Missing or malformed Authorization header (expected: Bearer <token>)");
  return m[1];
}

/** Resolves the caller of a request, synchronously (an OIDC token's keys were loaded by awaitJwtKeys). */
export function resolvePrincipal(deps: AuthDeps, request: Request): Principal {
  const token = bearerToken(request.headers.get("authorization"));
  if (token.startsWith("sk_")) return authenticateKey(deps, token, deps.now());
  if (token.split(".").length === 3 && deps.verifyJwt) {
    const mode = request.headers.get("x-staxa-mode") === "test" ? "test" : "live";
    return deps.verifyJwt(token, mode);
  }
  throw new Unauthorized("Invalid credentials");
}

export function requireScope(p: Principal, scope: Scope): void {
  if (!hasScope(p.scopes, scope)) {
    throw new Forbidden("insufficient_scope", `This key lacks the "${scope}" scope`, { required_scope: scope });
  }
}

// transform hands the principal to resolve on the request's own context object (cheaper than a WeakMap).
const PRINCIPAL = Symbol("principal");
type AuthContext = { request: Request; store: unknown; [PRINCIPAL]?: Principal };

/** Counts a failed authentication against the client IP; refuses with 429 past AUTH_FAILURES. */
function countFailure(deps: AuthDeps, err: unknown, store: unknown, request: Request): void {
  if (err instanceof Unauthorized && deps.limiter) {
    const r = deps.limiter.hit(`ip:${clientIp(store, request)}`, AUTH_FAILURES);
    if (!r.allowed) throw limitExceeded(r, AUTH_FAILURES);
  }
}

/**
 * Runs a password or token check (login, setup) under AUTH_FAILURES: an address already over the limit
 * is refused before the check runs (so a correct guess after the limit is not confirmed), and a failed
 * check counts against it.
 */
export async function underFailureLimit<T>(
  deps: AuthDeps,
  store: unknown,
  request: Request,
  check: () => Promise<T>,
): Promise<T> {
  const ip = `ip:${clientIp(store, request)}`;
  const before = deps.limiter?.peek(ip, AUTH_FAILURES);
  if (before && !before.allowed) throw limitExceeded(before, AUTH_FAILURES);
  try {
    return await check();
  } catch (err) {
    countFailure(deps, err, store, request);
    throw err;
  }
}

type Handle = (request: Request) => unknown;

/**
 * An Elysia `wrap` (for the root app, only when an OIDC issuer is configured): a dashboard JWT whose key
 * must first be fetched from the issuer's JWKS waits for it here, before Elysia handles the request, so
 * that the auth hooks stay synchronous. Every other request is handed on as it is. A failed fetch is
 * not answered here: verification then refuses the token with the reason.
 */
export function awaitJwtKeys(prepare: NonNullable<JwtVerifier["prepare"]>) {
  return (handle: Handle, request: Request): Handle => {
    const header = request.headers.get("authorization");
    // A JWT's header segment is base64url of '{"…': it starts with "ey"; API keys never wait.
    if (!header || !header.startsWith("Bearer ey")) return handle;
    const pending = prepare(header.slice(7));
    return pending
      ? (r) =>
          pending.then(
            () => handle(r),
            () => handle(r),
          )
      : handle;
  };
}

/**
 * The auth plugin: `.get(path, handler, { scope: "tenants:read" })` gives the handler `principal`.
 * Authentication runs in `transform`, before body validation, so a bad credential is a 401 even
 * when the body is also wrong; `resolve` then hands the principal to the handler. Both hooks are
 * synchronous on purpose (Elysia would await an async one on every request; see awaitJwtKeys).
 */
export function auth(deps: AuthDeps) {
  return new Elysia({ name: "auth" }).macro({
    scope: (scope: Scope) => ({
      transform(c) {
        const ctx = c as unknown as AuthContext;
        let principal: Principal;
        try {
          principal = resolvePrincipal(deps, ctx.request);
        } catch (err) {
          countFailure(deps, err, ctx.store, ctx.request);
          throw err;
        }
        requireScope(principal, scope);
        ctx[PRINCIPAL] = principal;
      },
      resolve(c) {
        const principal = (c as WithPrincipal)[PRINCIPAL];
        if (!principal) throw new Unauthorized();
        return { principal };
      },
    }),
  });
}
type WithPrincipal = { [PRINCIPAL]?: Principal };
