// The dashboard's API client: the Bearer token, the envelope, and errors turned into words.

/** An API failure in a shape the UI can show: always a message, maybe the field that caused it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** error.details as the API sent it (e.g. the DNS records a verification found). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

const TOKEN_KEY = "staxa.token";
const MODE_KEY = "staxa.mode";

export type Mode = "live" | "test";

/** The signed-in credential: a dashboard JWT or a pasted API key, kept in localStorage. */
export const session = {
  get token(): string | null {
    return localStorage.getItem(TOKEN_KEY);
  },
  set(token: string) {
    localStorage.setItem(TOKEN_KEY, token);
  },
  clear() {
    localStorage.removeItem(TOKEN_KEY);
  },
  get isApiKey(): boolean {
    return (this.token ?? "").startsWith("sk_");
  },
  /** live/test for dashboard JWTs (an API key carries its own mode). */
  get mode(): Mode {
    return localStorage.getItem(MODE_KEY) === "test" ? "test" : "live";
  },
  setMode(m: Mode) {
    localStorage.setItem(MODE_KEY, m);
  },
};

let onUnauthorized: () => void = () => {};
/** Called when a signed-in request answers 401 (expired session, revoked key). */
export function setUnauthorizedHandler(fn: () => void) {
  onUnauthorized = fn;
}

/** Request headers with the credential. */
export function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = { ...extra };
  const t = session.token;
  if (t) h.authorization = `Bearer ${t}`;
  if (t && !t.startsWith("sk_")) h["x-staxa-mode"] = session.mode;
  return h;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() ? v : undefined;
}

/** Turns a non-2xx response into an ApiError with a human message. */
export async function toApiError(res: Response): Promise<ApiError> {
  let body: any = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: a proxy page or an empty body
  }
  const e = body?.error;
  const code = str(e?.code) ?? `http_${res.status}`;
  let message = str(e?.message) ?? `The server answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`;
  const field = str(e?.details?.field);
  if (res.status === 429) {
    const after = Number(e?.details?.retry_after ?? res.headers.get("retry-after"));
    message = `Too many requests: try again${after > 0 ? ` in ${after} s` : " shortly"}.`;
  }
  const details =
    e?.details && typeof e.details === "object" && !Array.isArray(e.details) ? (e.details as Record<string, unknown>) : undefined;
  return new ApiError(res.status, code, message, field, details);
}

export interface Envelope<T> {
  data: T;
  meta: { total?: number; limit?: number; offset?: number; [k: string]: unknown };
}

/** Calls /api/v1 and returns the envelope; throws ApiError (never a raw TypeError) on failure. */
export async function api<T = any>(
  method: string,
  path: string,
  body?: unknown,
  opts: { anonymous?: boolean } = {},
): Promise<Envelope<T>> {
  const headers = authHeaders(body === undefined ? {} : { "content-type": "application/json" });
  if (opts.anonymous) delete headers.authorization;
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, "network", "Cannot reach the appliance: check your connection and try again.");
  }
  if (!res.ok) {
    const err = await toApiError(res);
    if (res.status === 401 && !opts.anonymous && session.token) onUnauthorized();
    throw err;
  }
  if (res.status === 204) return { data: null as T, meta: {} };
  const text = await res.text();
  if (!text) return { data: null as T, meta: {} };
  try {
    const json = JSON.parse(text);
    return { data: json.data as T, meta: json.meta ?? {} };
  } catch {
    throw new ApiError(res.status, "bad_response", "The server sent a response the dashboard cannot read.");
  }
}

/** Words for any thrown value: never "undefined", never a stack. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error && err.name === "AbortError") return "Cancelled.";
  return "Something went wrong. Try again.";
}

/** Encodes a path segment (ids, names, owner/repo parts). */
export const seg = (s: string) => encodeURIComponent(s);
