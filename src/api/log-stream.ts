// The two container-log endpoints (GET /tenants/{id}/logs and GET /tenants/{id}/services/{name}/logs) through one
// helper: the same parameters with the reference's defaults, one pump from the runtime's lines to the response, and
// the same stream slot and idle-timeout handling when following. Only the follow framing differs, as the reference
// has it: a service's log follows as SSE, a tenant's as chunked text (what `staxa logs -f` reads).
import { t } from "elysia";
import type { ApiDeps } from "./deps.ts";
import type { Principal } from "../core/identity/principal.ts";
import { containerLogs, MAX_LOG_LINES } from "../core/tenants/container-logs.ts";
import { Invalid } from "../lib/errors.ts";
import { intParam } from "./query.ts";
import { keepOpen } from "./plugins/root-app.ts";

/** The reference's `lines` defaults: 200 for a tenant's container logs, 100 for one service's. */
export const LOG_LINES_DEFAULT = { tenant: 200, service: 100 } as const;
/** How long a tail (no follow) may take before what was read is answered. */
const TAIL_TIMEOUT_MS = 10_000;

type Endpoint = keyof typeof LOG_LINES_DEFAULT;
type Framing = "sse" | "text";
const FRAMING: Record<Endpoint, Framing> = { tenant: "text", service: "sse" };
const enc = new TextEncoder();

/** The query schema of a log endpoint: `lines` (1..MAX_LOG_LINES, the endpoint's default) and `follow`. */
export function logQuery(endpoint: Endpoint) {
  return t.Object({
    lines: intParam("lines", {
      minimum: 1,
      maximum: MAX_LOG_LINES,
      default: LOG_LINES_DEFAULT[endpoint],
      description: "Lines from the end of the log",
    }),
    follow: t.Optional(t.String({ description: "true: stream new lines as they are written (default false)" })),
  });
}

/** `follow` as the reference's boolean: true or false (1 or 0 too), absent is false; anything else is a 400. */
export function followParam(raw: string | undefined): boolean {
  if (raw === undefined || raw === "false" || raw === "0") return false;
  if (raw === "true" || raw === "1") return true;
  throw new Invalid("follow", "follow must be true or false");
}

export interface LogRequest {
  endpoint: Endpoint;
  tenantId: string;
  /** A service's name; absent: the tenant's primary service. */
  service?: string;
  lines: number;
  follow?: string;
}

/**
 * The answer of a log endpoint: the last `lines` lines as text/plain, or with follow the live lines, holding one
 * of the provider's log slots until the client goes away. The tenant and service are checked before the stream
 * starts, so a bad id or name is a proper 4xx.
 */
export async function logResponse(
  deps: ApiDeps,
  p: Principal,
  q: LogRequest,
  request: Request,
  store: unknown,
): Promise<Response> {
  const follow = followParam(q.follow);
  const ac = new AbortController();
  const abort = () => ac.abort();
  request.signal.addEventListener("abort", abort, { once: true });
  const lines = containerLogs(deps, p, q.tenantId, { lines: q.lines, follow, signal: ac.signal, service: q.service });
  if (!follow) {
    const timer = setTimeout(abort, TAIL_TIMEOUT_MS);
    const out: string[] = [];
    try {
      for await (const l of lines) out.push(l.replace(/\r?\n$/, ""));
    } finally {
      clearTimeout(timer);
      request.signal.removeEventListener("abort", abort);
    }
    return new Response(out.length ? out.join("\n") + "\n" : "", { headers: { "content-type": "text/plain; charset=utf-8" } });
  }
  keepOpen(store, request); // a quiet log must not be cut by the server's idle timeout
  const framing = FRAMING[q.endpoint];
  const body = deps.streams.guard(p.providerId, "logs", () => pump(lines, ac, framing), request.signal);
  const type = framing === "sse" ? "text/event-stream" : "text/plain; charset=utf-8";
  return new Response(body, { headers: { "content-type": type, "cache-control": "no-cache", "x-accel-buffering": "no" } });
}

const frames: Record<Framing, { open: string; line: (l: string) => string; ended: (why: string) => string }> = {
  sse: {
    open: "retry: 5000\n\n",
    line: (l) =>
      l
        .replace(/\r?\n$/, "")
        .split(/\r?\n/)
        .map((x) => `data: ${x}\n`)
        .join("") + "\n",
    ended: (why) => `event: error\ndata: log stream ended: ${why}\n\n`,
  },
  text: {
    open: "",
    line: (l) => (l.endsWith("\n") ? l : l + "\n"),
    ended: (why) => `[staxa] log stream ended: ${why}\n`,
  },
};

/** Lines as a byte stream in `framing`; cancelling it (or `ac` aborting) ends the runtime's log stream. */
function pump(lines: AsyncIterable<string>, ac: AbortController, framing: Framing): ReadableStream<Uint8Array> {
  const f = frames[framing];
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        if (f.open) controller.enqueue(enc.encode(f.open));
        for await (const line of lines) {
          if (ac.signal.aborted) break;
          controller.enqueue(enc.encode(f.line(line)));
        }
      } catch (e) {
        if (!ac.signal.aborted) controller.enqueue(enc.encode(f.ended((e as Error).message)));
      } finally {
        try {
          controller.close();
        } catch {
          // cancelled by the client
        }
      }
    },
    cancel() {
      ac.abort();
    },
  });
}
