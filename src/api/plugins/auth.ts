// Authentication and scopes. Routes declare `{ scope: "tenants:read" }`; the macro resolves the caller
// (API key, or a dashboard JWT) to a Principal and refuses a missing scope with 403 insufficient_scope.
import { Elysia, ElysiaCustomStatusResponse } from "elysia";
import { Forbidden, RateLimited, Unauthorized } from "../../lib/errors.ts";
import { authenticateKey } from "../../core/keys.ts";
import { hasScope, type Principal, type Scope } from "../../core/principal.ts";
import type { Db } from "../../store/db.ts";
import type { RateLimiter } from "./rate-limit.ts";
import { appOf, clientIp } from "./root-app.ts";

export interface AuthDeps {
  db: Db;
  now: () => Date;
  /** Verifies a dashboard JWT (built-in login or OIDC); undefined when none is configured. */
  verifyJwt?: (token: string, mode: "live" | "test") => Principal | Promise<Principal>;
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
const PRINCIPAL = Symbol("principal");
// The outcome of a verification that had to wait (see deferred), for the transform's second run.
const SETTLED = Symbol("settledAuth");
type AuthContext = {
  request: Request;
  store: unknown;
  route: string;
  [PRINCIPAL]?: Principal;
  [SETTLED]?: { principal?: Principal; error?: unknown };
};

/** Counts a failed authentication against the client IP; refuses with 429 past AUTH_FAILURES. */
function countFailure(deps: AuthDeps, err: unknown, store: unknown, request: Request): void {
  if (err instanceof Unauthorized && deps.limiter) {
    const r = deps.limiter.hit(`ip:${clientIp(store, request)}`, AUTH_FAILURES);
    if (!r.allowed) throw new RateLimited(r.retryAfter);
  }
}

/**
 * A credential that needs I/O to verify (a JWT whose JWKS must be fetched): once it settles, the route's
 * compiled handler runs again on the same context, and the transform picks the outcome up. This keeps the
 * transform synchronous, so Elysia compiles the API-key path without a single promise; only this rare path
 * pays for one. The body, if any, was parsed on the first run and stays in the context.
 */
function deferred(c: AuthContext, pending: Promise<Principal>): Promise<unknown> {
  return pending.then(
    (principal) => (c[SETTLED] = { principal }),
    (error) => (c[SETTLED] = { error }),
  ).then(() => {
    const app = appOf(c.store);
    const method = c.request.method === "HEAD" ? "GET" : c.request.method;
    const route = app?.routes.find((r) => r.method === method && r.path === c.route);
    if (!route) throw new Error(`auth: no registered route ${method} ${c.route} to resume`);
    // The body stream was consumed by the first run's parse: hide it so the re-run keeps the parsed body.
    if (c.request.bodyUsed) Object.defineProperty(c.request, "body", { value: null });
    const handle = typeof route.composed === "function" ? route.composed : route.compile();
    return handle(c as never);
  });
}

/**
 * The auth plugin: `.get(path, handler, { scope: "tenants:read" })` gives the handler `principal`.
 * Authentication runs in `transform`, before body validation, so a bad credential is a 401 even
 * when the body is also wrong; `resolve` then hands the principal to the handler. Both hooks are
 * synchronous on purpose (Elysia would await an async one on every request; see deferred()).
 */
export function auth(deps: AuthDeps) {
  return new Elysia({ name: "auth" }).macro({
    scope: (scope: Scope) => ({
      transform(c) {
        const ctx = c as unknown as AuthContext;
        const settled = ctx[SETTLED];
        let principal: Principal;
        try {
          if (settled) {
            ctx[SETTLED] = undefined;
            if (settled.error !== undefined) throw settled.error;
            principal = settled.principal!;
          } else {
            const resolved = resolvePrincipal(deps, ctx.request);
            if (resolved instanceof Promise) return new ElysiaCustomStatusResponse(200, deferred(ctx, resolved)) as never;
            principal = resolved;
          }
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
