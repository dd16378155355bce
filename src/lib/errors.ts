// Typed domain errors. core throws these; ONE handler (api/plugins/envelope.ts) maps them to HTTP.

export type ErrorDetails = Record<string, unknown>;

/** Base of every error the API may show a client. `code` is stable and machine-readable. */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
  }
}

/** Bad input: names the offending field in details.field. → 400 */
export class Invalid extends AppError {
  constructor(field: string, message: string, details: ErrorDetails = {}) {
    super("validation_error", message, { field, ...details });
  }
}

/** Missing or unusable credentials. → 401 */
export class Unauthorized extends AppError {
  constructor(message = "Missing or invalid credentials") {
    super("unauthorized", message);
  }
}

/** Authenticated but not allowed (scope). → 403 */
export class Forbidden extends AppError {
  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(code, message, details);
  }
}

/** Unknown or foreign object: never distinguishes the two. → 404 */
export class NotFound extends AppError {
  constructor(what: string) {
    super("not_found", `${what} not found`);
  }
}

/** State conflict (name taken, port pool exhausted). → 409 */
export class Conflict extends AppError {
  constructor(message: string, details: ErrorDetails = {}, code = "conflict") {
    super(code, message, details);
  }
}

/** Well-formed but not processable now (limits, wrong state). → 422 */
export class Unprocessable extends AppError {
  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(code, message, details);
  }
}

/** Too many requests. → 429 */
export class RateLimited extends AppError {
  /** `hit` names the limit (its rule name, what it counts, per minute) so the message can say which one. */
  constructor(
    readonly retryAfterSec: number,
    hit?: { rule: string; what: string; limit: number },
  ) {
    super(
      "rate_limited",
      hit
        ? `Rate limit exceeded: ${hit.limit} ${hit.what} per minute (limit "${hit.rule}"); it resets in ${retryAfterSec} s`
        : `Rate limit exceeded; it resets in ${retryAfterSec} s`,
      hit ? { retry_after: retryAfterSec, limit: hit.rule, limit_per_minute: hit.limit } : { retry_after: retryAfterSec },
    );
  }
}

/** Request body over the configured limit. → 413 */
export class PayloadTooLarge extends AppError {
  constructor(limit: number) {
    super("payload_too_large", `Request body exceeds ${limit} bytes`, { limit });
  }
}

/** An outside system (Docker, Caddy, a registry, GitHub) failed. → 502 */
export class Upstream extends AppError {
  constructor(system: string, message: string) {
    super("upstream_error", `${system}: ${message}`, { system });
  }
}

/** HTTP status for each error class; the only place that knows it. */
export function statusOf(err: AppError): number {
  if (err instanceof Invalid) return 400;
  if (err instanceof Unauthorized) return 401;
  if (err instanceof Forbidden) return 403;
  if (err instanceof NotFound) return 404;
  if (err instanceof Conflict) return 409;
  if (err instanceof PayloadTooLarge) return 413;
  if (err instanceof Unprocessable) return 422;
  if (err instanceof RateLimited) return 429;
  if (err instanceof Upstream) return 502;
  return 500;
}
