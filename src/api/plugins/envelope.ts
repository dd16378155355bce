// Request ids, the success envelope's meta, body-size limit, and the ONE error handler of the API.
import { Elysia } from "elysia";
import { AppError, Invalid, NotFound, PayloadTooLarge, RateLimited, statusOf } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import { randomAlnum } from "../../lib/ids.ts";
import { bodyProblem } from "./json-body.ts";

// The id rides on the Request object itself: a WeakMap entry per request was measurable GC work.
const REQUEST_ID = Symbol("requestId");
type WithId = Request & { [REQUEST_ID]?: string };
const REQUEST_ID_RE = /^[A-Za-z0-9._-]{8,128}$/;

// Request ids need to be unique, not secret: a random per-process prefix plus a counter is unique across
// restarts and costs nothing (random characters per request were a measurable share of a request).
const ID_PREFIX = randomAlnum(6);
// ID_BASE + n is always 10 base-36 digits for n < 35 * 36^9, so no padding is needed.
const ID_BASE = 36 ** 9;
let idCounter = 0;
function nextRequestId(): string {
  idCounter = (idCounter + 1) % (35 * ID_BASE);
  return `req_${ID_PREFIX}${(ID_BASE + idCounter).toString(36)}`;
}

/** The request id of a request (set by this plugin's onRequest). */
export function requestIdOf(request: Request): string {
  return (request as WithId)[REQUEST_ID] ?? "req_unknown";
}

export function errorBody(code: string, message: string, details: Record<string, unknown> = {}) {
  return { error: { code, message, details } };
}

/** A JSON pointer (/services/0/name) as the API names fields elsewhere (services[0].name). */
function fieldOf(pointer: string): string {
  return pointer
    .split("/")
    .filter(Boolean)
    .map((seg) => seg.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), "");
}

/** True for the error a strict body schema (additionalProperties: Never) gives on a field it does not list. */
function isUnknownField(e: any): boolean {
  return (
    !!e?.path && !!e.schema && typeof e.schema === "object" && "not" in e.schema && Object.keys(e.schema.not ?? {}).length === 0
  );
}

/** Turns an Elysia ValidationError into our field-naming 400; an unknown field is named before a missing one. */
function fromValidation(error: any): Invalid {
  let all: any[] = [];
  try {
    all = error.all ?? [];
  } catch {
    // Elysia's `all` getter re-runs the validator; the first error is enough then
  }
  const first = all[0] ?? error.valueError;
  const where = error.type === "query" ? "query" : error.type === "params" ? "path" : "body";
  const problem = where === "body" ? bodyProblem(error.value) : undefined;
  if (problem) return new Invalid("body", problem, { in: where });
  const unknown = all.find(isUnknownField) ?? (isUnknownField(first) ? first : undefined);
  if (unknown) {
    const name = fieldOf(unknown.path);
    return new Invalid(name, `Unknown ${where} field "${name}"`, { in: where });
  }
  const path = fieldOf(first?.path ?? "");
  const field = path || (first?.schema?.required?.[0] as string | undefined) || where;
  const summary = typeof first?.summary === "string" ? first.summary : (first?.message ?? "Invalid value");
  const message = path ? `Invalid ${where} field "${path}": ${summary}` : `Invalid ${where}: ${summary}`;
  return new Invalid(field, message, { in: where });
}

export function envelope(opts: { log: Logger; maxBodyBytes: number }) {
  return new Elysia({ name: "envelope", seed: opts.maxBodyBytes })
    .onRequest(({ request, set }) => {
      const headers = request.headers;
      const given = headers.get("x-request-id");
      const id = given && REQUEST_ID_RE.test(given) ? given : nextRequestId();
      (request as WithId)[REQUEST_ID] = id;
      set.headers["x-request-id"] = id;
      const len = Number(headers.get("content-length") ?? 0);
      if (len > opts.maxBodyBytes) throw new PayloadTooLarge(opts.maxBodyBytes);
    })
    .onAfterHandle({ as: "global" }, ({ request, response }) => {
      if (response && typeof response === "object" && !(response instanceof Response) && "data" in (response as object)) {
        const r = response as { data: unknown; meta?: Record<string, unknown> };
        // one()/page()/all() build a fresh meta per response, so it is completed in place.
        if (r.meta && typeof r.meta === "object") r.meta.request_id = requestIdOf(request);
        else r.meta = { request_id: requestIdOf(request) };
      }
    })
    .onError({ as: "global" }, ({ code, error, set, request, path }) => {
      set.headers["content-type"] = "application/json";
      let err: AppError;
      if (error instanceof AppError) err = error;
      else if (code === "VALIDATION") err = fromValidation(error);
      else if (code === "NOT_FOUND") err = new NotFound(`Route ${request.method} ${new URL(request.url).pathname}`);
      // The body reader's own refusals (413, not JSON) reach here wrapped by Elysia's ParseError.
      else if (code === "PARSE")
        err =
          (error as { cause?: unknown }).cause instanceof AppError
            ? (error as { cause: AppError }).cause
            : new Invalid("body", "Request body is not valid JSON");
      else if (code === "INVALID_COOKIE_SIGNATURE") err = new Invalid("cookie", "Invalid cookie");
      else {
        const status = (error as { status?: number })?.status;
        if (status === 413) err = new PayloadTooLarge(opts.maxBodyBytes);
        else {
          opts.log.error("unhandled error", {
            request_id: requestIdOf(request),
            path,
            error: (error as Error)?.message ?? String(error),
          });
          err = new AppError("internal_error", "Internal server error");
        }
      }
      set.status = statusOf(err);
      if (err instanceof RateLimited) set.headers["retry-after"] = String(err.retryAfterSec);
      return errorBody(err.code, err.message, { ...err.details, request_id: requestIdOf(request) });
    });
}

/** `{data}` for a single resource; meta.request_id is added by the plugin. */
export function one<T>(data: T) {
  return { data, meta: {} as Record<string, unknown> };
}

/** `{data:[…], meta:{total,limit,offset}}` for a paginated list. */
export function page<T>(data: T[], total: number, limit: number, offset: number) {
  return { data, meta: { total, limit, offset } as Record<string, unknown> };
}

/** `{data:[…], meta:{total}}` for an unpaginated list. */
export function all<T>(data: T[]) {
  return { data, meta: { total: data.length } as Record<string, unknown> };
}
