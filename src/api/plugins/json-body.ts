// The ONE request-body reader of the API: at most maxBodyBytes (past it 413, with the error envelope), and JSON
// whatever the Content-Type says. The API takes no other body format, and `curl -d` (form-urlencoded) or a
// client that sends no Content-Type meant JSON too; a body that is not JSON is a 400 that says so.
// Routes opt in with `parse: json` (not a global onParse hook: any parse hook makes Elysia compile every
// route, GETs included, as async — an await on each request of the hot path).
import { PayloadTooLarge } from "../../lib/errors.ts";

/**
 * Bun.serve's own body limit, for `staxa serve`: out of reach, because Bun answers past it with an empty 413.
 * STAXA_MAX_BODY_BYTES is enforced here instead, with the envelope: a declared Content-Length by the envelope's
 * onRequest before anything is read, a chunked body by readBodyText as it streams in.
 */
export const SERVER_BODY_CEILING = Number.MAX_SAFE_INTEGER;

/**
 * The body's text, refusing more than `max` bytes. A declared Content-Length was checked on arrival (the
 * envelope's onRequest) and Bun delivers no more than it declares; a chunked body is counted as it streams.
 */
export async function readBodyText(request: Request, max: number): Promise<string> {
  if (!request.body) return "";
  if (request.headers.has("content-length")) return request.text();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      void reader.cancel().catch(() => {});
      throw new PayloadTooLarge(max);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

// A body that is not a JSON object is refused only after authentication (a wrong key with a bad body is a 401,
// like any other request): the parser hands on this stand-in, which no schema accepts and bodyObject refuses.
const PROBLEM = "\u0000body-problem";

/** Why the body was refused, when the parser replaced it with its stand-in. */
export function bodyProblem(body: unknown): string | undefined {
  return body && typeof body === "object" && PROBLEM in body ? String((body as Record<string, unknown>)[PROBLEM]) : undefined;
}

/** Deeper than any body of this API (services[].volumes[] is 4 levels): beyond it a body is refused unparsed. */
export const MAX_JSON_DEPTH = 32;

/**
 * True when the JSON text nests arrays or objects deeper than `max` (brackets inside strings do not count).
 * Found by the fuzz test: Elysia's validation error renders the whole body indented, quadratic in its depth,
 * so one 600 kB body nested 100,000 deep held the event loop for minutes.
 */
export function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/**
 * The parsed body: undefined without one, "" for an empty one, else a JSON object (any Content-Type). Every
 * body of this API is an object; anything else becomes the stand-in (Elysia would turn `[1]` into `{"0":1}`).
 */
export async function parseJsonBody(request: Request, max: number): Promise<unknown> {
  if (!request.body) return undefined;
  const text = await readBodyText(request, max);
  if (text.trim() === "") return "";
  if (nestedDeeperThan(text, MAX_JSON_DEPTH)) return { [PROBLEM]: `Request body nests deeper than ${MAX_JSON_DEPTH} levels` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const type = request.headers.get("content-type");
    const sent = type && !/^application\/json\b/i.test(type) ? ` (it was sent as ${type.slice(0, 100)})` : "";
    return {
      [PROBLEM]: `Request body is not valid JSON${sent}; this API reads every body as JSON (Content-Type: application/json)`,
    };
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) return { [PROBLEM]: "Request body must be a JSON object" };
  return value;
}

/** A route's `parse` hook: the body as JSON. */
export function jsonBody(maxBodyBytes: number) {
  return ({ request }: { request: Request }) => parseJsonBody(request, maxBodyBytes);
}

/** A route's `parse` hook for a body a signature covers: the exact text, unparsed ("" without a body). */
export function rawBody(maxBodyBytes: number) {
  return ({ request }: { request: Request }) => readBodyText(request, maxBodyBytes);
}
