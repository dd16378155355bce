// Integer query and path parameters, parsed in ONE place: decimal digits within the parameter's range, else a
// 400 naming the parameter. Elysia's t.Numeric let `1.5` and `99999999999999999999` reach SQLite (a 500).
import { t, type TSchema } from "elysia";
import { TypeRegistry } from "elysia/type-system";
import { Invalid } from "../lib/errors.ts";

export interface IntSpec {
  minimum: number;
  maximum: number;
  default?: number;
  description?: string;
}

/** The largest offset accepted: every integer up to it is exact in JS and fits SQLite's. */
export const MAX_OFFSET = Number.MAX_SAFE_INTEGER;

/** The reference's pagination: limit defaults to 20 (at most 100), offset to 0. */
export const PAGE = {
  limit: { minimum: 1, maximum: 100, default: 20, description: "Results per page" },
  offset: { minimum: 0, maximum: MAX_OFFSET, default: 0, description: "Pagination offset" },
} satisfies Record<string, IntSpec>;

const DIGITS = /^-?[0-9]{1,16}$/;

/** `raw` as an integer within spec, or a 400 naming `field`. A number is Elysia's filled-in default. */
export function parseIntParam(field: string, raw: unknown, spec: IntSpec): number {
  const n = typeof raw === "number" ? raw : typeof raw === "string" && DIGITS.test(raw) ? Number(raw) + 0 : NaN;
  if (!Number.isSafeInteger(n) || n < spec.minimum || n > spec.maximum) {
    const shown = typeof raw === "string" ? JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw) : typeof raw;
    throw new Invalid(field, `${field} must be an integer from ${spec.minimum} to ${spec.maximum} (got ${shown})`, {
      minimum: spec.minimum,
      maximum: spec.maximum,
    });
  }
  return n;
}

// A schema kind that documents itself as an integer (the OpenAPI document shows type, range and default) while
// accepting the raw string, so parseIntParam, not a coercion, decides. Anything but a string (or the filled-in
// default) fails the check.
const KIND = "StaxaIntegerString";
if (!TypeRegistry.Has(KIND)) TypeRegistry.Set(KIND, (_s, v) => typeof v === "string" || typeof v === "number");

/**
 * One integer parameter of a query or path schema; the handler receives a number. With a default it may be
 * left out (Elysia fills the default in before validation); without one, wrap it in t.Optional.
 */
export function intParam(field: string, spec: IntSpec) {
  const { minimum, maximum, description } = spec;
  const raw = {
    [Symbol.for("TypeBox.Kind")]: KIND,
    type: "integer",
    minimum,
    maximum,
    ...(spec.default === undefined ? {} : { default: spec.default }),
    ...(description ? { description } : {}),
  } as unknown as TSchema;
  return t
    .Transform(raw)
    .Decode((v) => parseIntParam(field, v, spec))
    .Encode((n) => String(n));
}

/** `limit` and `offset` with the reference's defaults (Elysia fills them in): handlers read `query.limit` and `query.offset`. */
export function pageQuery<P extends Record<string, TSchema> = {}>(extra: P = {} as P) {
  return t.Object({ ...extra, limit: intParam("limit", PAGE.limit), offset: intParam("offset", PAGE.offset) });
}
