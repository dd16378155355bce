// Rate limits of the reference's table, fixed one-minute windows, keyed per credential (per IP before auth).
// X-RateLimit-* headers go on every /api/v1 response; 429 + Retry-After when exceeded.
import { Elysia } from "elysia";
import { RateLimited } from "../../lib/errors.ts";
import { clientIp } from "./root-app.ts";

/** A limit: its name, how many per minute, and what it counts (for the 429's message). */
export interface Limit {
  name: string;
  limit: number;
  what: string;
}

interface Rule extends Limit {
  method: string;
  re: RegExp;
}

/** The reference's table; the first match wins, "other" catches the rest. */
export const RATE_RULES: Rule[] = [
  { name: "tenants.create", method: "POST", re: /^\/api\/v1\/tenants\/?$/, limit: 10, what: "POST /tenants requests" },
  {
    name: "tenants.deploy",
    method: "POST",
    re: /^\/api\/v1\/tenants\/[^/]+\/deploy\/?$/,
    limit: 20,
    what: "POST /tenants/{id}/deploy requests",
  },
  { name: "tenants.list", method: "GET", re: /^\/api\/v1\/tenants\/?$/, limit: 60, what: "GET /tenants requests" },
  { name: "tenants.get", method: "GET", re: /^\/api\/v1\/tenants\/[^/]+\/?$/, limit: 120, what: "GET /tenants/{id} requests" },
  {
    name: "tenants.events",
    method: "GET",
    re: /^\/api\/v1\/tenants\/[^/]+\/events\/?$/,
    limit: 10,
    what: "GET /tenants/{id}/events requests",
  },
  { name: "keys.create", method: "POST", re: /^\/api\/v1\/api-keys\/?$/, limit: 5, what: "POST /api-keys requests" },
];
const OTHER = 60;
const WINDOW_MS = 60_000;

const OTHER_RULE: Limit = { name: "other", limit: OTHER, what: "requests to other routes" };

export function ruleFor(method: string, path: string): Limit {
  for (const r of RATE_RULES) if (r.method === method && r.re.test(path)) return r;
  return OTHER_RULE;
}

// Rule per method and path, remembered (bounded: paths with ids are many); this runs on every request.
const ruleCache = new Map<string, Map<string, Limit>>();
const CACHED_METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]);
function cachedRuleFor(method: string, path: string): Limit {
  // Any other method string a client sends is looked up, never remembered: it could mint entries.
  if (!CACHED_METHODS.has(method)) return ruleFor(method, path);
  let byPath = ruleCache.get(method);
  if (!byPath) ruleCache.set(method, (byPath = new Map()));
  let rule = byPath.get(path);
  if (!rule) {
    if (byPath.size >= 1000) byPath.clear();
    byPath.set(path, (rule = ruleFor(method, path)));
  }
  return rule;
}

// The header texts of the last limit and reset seen: they change once a window, not per request.
let limitNum = -1,
  limitText = "",
  resetNum = -1,
  resetText = "";

/** Fixed-window counters in memory; old windows are swept as they pass. */
export class RateLimiter {
  // rule name -> identity -> hits in the current window (two levels: no key string built per request).
  private counts = new Map<string, Map<string | bigint, number>>();
  private window = 0;

  constructor(
    private readonly scale = 1,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one hit; returns the headers' values and whether it is allowed. */
  hit(identity: string | bigint, rule: { name: string; limit: number }) {
    const t = this.now();
    const window = Math.floor(t / WINDOW_MS);
    if (window !== this.window) {
      this.counts.clear();
      this.window = window;
    }
    const limit = rule.limit * this.scale;
    let perRule = this.counts.get(rule.name);
    if (!perRule) this.counts.set(rule.name, (perRule = new Map()));
    const used = (perRule.get(identity) ?? 0) + 1;
    perRule.set(identity, used);
    const reset = (window + 1) * (WINDOW_MS / 1000);
    return {
      limit,
      remaining: Math.max(0, limit - used),
      reset,
      allowed: used <= limit,
      retryAfter: Math.max(1, Math.ceil(reset - t / 1000)),
    };
  }

  /** Whether one more hit would still be allowed, without counting it (e.g. before checking a password). */
  peek(identity: string | bigint, rule: { name: string; limit: number }) {
    const t = this.now();
    const window = Math.floor(t / WINDOW_MS);
    const used = window === this.window ? (this.counts.get(rule.name)?.get(identity) ?? 0) : 0;
    const limit = rule.limit * this.scale;
    return { limit, allowed: used < limit, retryAfter: Math.max(1, Math.ceil((window + 1) * (WINDOW_MS / 1000) - t / 1000)) };
  }
}

/** The 429 for a refused hit: names the limit, what it counts and when it resets. */
export function limitExceeded(r: { limit: number; retryAfter: number }, rule: Limit): RateLimited {
  return new RateLimited(r.retryAfter, { rule: rule.name, what: rule.what, limit: r.limit });
}

/**
 * Identity of a request for limiting: the credential when one is sent (as its 64-bit hash, a bigint,
 * so the raw credential is never kept), else the client IP (a string: the two can never be equal).
 * The /auth routes (login, setup) take no credential: there a made-up Authorization header would be a
 * fresh budget per request, so they always count against the socket's peer address.
 */
function identityOf(request: Request, store: unknown, path: string): string | bigint {
  const auth = request.headers.get("authorization");
  return auth && !path.startsWith("/api/v1/auth/") ? BigInt(Bun.hash(auth)) : `ip:${clientIp(store, request)}`;
}

/** The path of an absolute request URL, without building a URL object (this runs on every request). */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  const h = url.indexOf("#", start);
  const end = q < 0 ? (h < 0 ? url.length : h) : h < 0 ? q : Math.min(q, h);
  return url.slice(start, end);
}

export function rateLimit(limiter: RateLimiter) {
  return (
    new Elysia({ name: "rate-limit" })
      // Elysia's `path` (a constant for static routes) when it has one. No early `return` here on purpose:
      // Elysia compiles a hook containing one into an extra early-response check on every request.
      .onRequest(
        ({
          request,
          set,
          store,
          path,
        }: {
          request: Request;
          set: { headers: Record<string, string | number> };
          store: unknown;
          path?: string;
        }) => {
          const p = path ?? pathOf(request.url);
          if (p.startsWith("/api/v1/")) {
            const rule = cachedRuleFor(request.method, p);
            const r = limiter.hit(identityOf(request, store, p), rule);
            if (r.limit !== limitNum) limitText = String((limitNum = r.limit));
            if (r.reset !== resetNum) resetText = String((resetNum = r.reset));
            set.headers["x-ratelimit-limit"] = limitText;
            set.headers["x-ratelimit-remaining"] = String(r.remaining);
            set.headers["x-ratelimit-reset"] = resetText;
            if (!r.allowed) throw limitExceeded(r, rule);
          }
        },
      )
  );
}
