// Authentication and scopes. Routes declare `{ scope: "tenants:read" }`; the macro resolves the caller
// (API key, or a dashboard JWT) to a Principal and refuses a missing scope with 403 insufficient_scope.
import { Elysia } from "elysia";
import { Forbidden, RateLimited, Unauthorized } from "../../lib/errors.ts";
import { authenticateKey } from "../../core/keys.ts";
import { hasScope, type Principal, type Scope } from "../../core/principal.ts";
import type { Db } from "../../store/db.ts";
import type { RateLimiter } from "./rate-limit.ts";

export interface AuthDeps {
  db: Db;
  now: () => Date;
  /** Verifies a dashboard JWT (built-in login or OIDC); undefined when none is configured. */
  verifyJwt?: (token: string, mode: "live" | "test") => Promise<Principal>;
  /** When given, failed authentications are also counted per client IP (see AUTH_FAILURES). */
  limiter?: RateLimiter;
}

/**
 * Failed authentications allowed per IP and minute (times the limiter's scale). The route limits are
 * keyed by credential, so without this an attacker rotating made-up keys would never hit a limit.
 */
export const AUTH_FAILURES = { name: "auth.failed", limit: 30 };

/** Bearer token of the Authorization header, or throws 401. */
export function bearerToken(header: string | null): string {
  const m = header ? /^Bearer ([^\s]+)$/.exec(header) : null;
  if (!m) throw new Unauthorized("Missing or malformed Authorization header (expected: Bearer <token>)");
  return m[1];
}

/** Resolves the caller of a request: synchronously for an API key (the hot path), a promise for a JWT. */
export function resolvePrincipal(deps: AuthDeps, request: Request): Principal | Promise<Principal> {
  const token = bearerToken(request.headers.get("authorization"));
  if (token.startsWith("sk_")) return authenticateKey(deps.db, token, deps.now());
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
type WithPrincipal = { [PRINCIPAL]?: Principal };
const PRINCIPAL = Symbol("principal");

/**
 * The auth plugin: `.get(path, handler, { scope: "tenants:read" })` gives the handler `principal`.
 * Authentication runs in `transform`, before body validation, so a bad credential is a 401 even
 * when the body is also wrong; `resolve` then hands the principal to the handler.
 */
export function auth(deps: AuthDeps) {
  return new Elysia({ name: "auth" }).macro({
    scope: (scope: Scope) => ({
      async transform(c) {
        const { request, server } = c;
        let principal: Principal;
        try {
          const resolved = resolvePrincipal(deps, request);
          principal = resolved instanceof Promise ? await resolved : resolved;
        } catch (err) {
          if (err instanceof Unauthorized && deps.limiter) {
            const r = deps.limiter.hit(`ip:${server?.requestIP(request)?.address ?? "unknown"}`, AUTH_FAILURES);
            if (!r.allowed) throw new RateLimited(r.retryAfter);
          }
          throw err;
        }
        requireScope(principal, scope);
        (c as WithPrincipal)[PRINCIPAL] = principal;
      },
      resolve(c) {
        const principal = (c as WithPrincipal)[PRINCIPAL];
        if (!principal) throw new Unauthorized();
        return { principal };
      },
    }),
  });
}
