// A small client of a remote appliance's /api/v1: JSON calls, API errors as ApiError, and an SSE reader.
import type { Credentials } from "./credentials.ts";
import pkg from "../../../package.json" with { type: "json" };

/** The API answered with an error envelope (or not at all): exit code 1. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

export class ApiClient {
  constructor(
    private readonly creds: Credentials,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  private async raw(method: string, path: string, body?: unknown, accept = "application/json"): Promise<Response> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.creds.key}`,
      accept,
      "user-agent": `staxa-cli/${pkg.version}`,
    };
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await this.fetchFn(`${this.creds.url}/api/v1${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, "unreachable", `cannot reach ${this.creds.url}: ${(e as Error).message}`);
    }
    if (res.ok) return res;
    const text = await res.text();
    let err: { code?: string; message?: string; details?: Record<string, unknown> } = {};
    try {
      err = JSON.parse(text).error ?? {};
    } catch {
      // not our envelope (a proxy in between?)
    }
    throw new ApiError(res.status, err.code ?? "http_error", err.message ?? `HTTP ${res.status}`, err.details ?? {});
  }

  /** A JSON call; returns the whole envelope ({data, meta}) or undefined for 204. */
  async call<T = any>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ data: T; meta: Record<string, unknown> } | undefined> {
    const res = await this.raw(method, path, body);
    if (res.status === 204) return undefined;
    const text = await res.text();
    return text ? JSON.parse(text) : undefined;
  }

  /** A text stream (logs), chunk by chunk. */
  async *text(path: string): AsyncGenerator<string> {
    const res = await this.raw("GET", path, undefined, "text/plain");
    const dec = new TextDecoder();
    if (!res.body) return;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) yield dec.decode(chunk, { stream: true });
  }

  /** Server-sent events of `path` until the server closes the stream. */
  async *sse(path: string, lastEventId?: string): AsyncGenerator<SseEvent> {
    const res = await this.raw(
      "GET",
      path + (lastEventId ? `${path.includes("?") ? "&" : "?"}last_event_id=${encodeURIComponent(lastEventId)}` : ""),
      undefined,
      "text/event-stream",
    );
    const dec = new TextDecoder();
    let buf = "";
    if (!res.body) return;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += dec.decode(chunk, { stream: true }).replace(/\r\n/g, "\n");
      let end: number;
      while ((end = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const ev: SseEvent = { data: "" };
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          const i = line.indexOf(":");
          const field = i < 0 ? line : line.slice(0, i);
          const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
          if (field === "data") data.push(value);
          else if (field === "id") ev.id = value;
          else if (field === "event") ev.event = value;
        }
        if (data.length) yield { ...ev, data: data.join("\n") };
      }
    }
  }
}
