// Streams over fetch(): Server-Sent Events (EventSource cannot send an Authorization header) and
// follow-mode logs, whichever the server answers (text/event-stream or chunked text/plain).
import { authHeaders, toApiError, ApiError } from "./api.ts";

export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

/** Incremental SSE parser (WHATWG rules: id/event/data fields, blank line ends a message, ':' comments). */
export class SseParser {
  private buf = "";
  private data: string[] = [];
  private event = "";
  private id: string | undefined;
  lastId: string | undefined;

  push(chunk: string): SseMessage[] {
    this.buf += chunk;
    const out: SseMessage[] = [];
    let nl: number;
    while ((nl = this.buf.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buf.slice(0, nl);
      const sep = this.buf[nl] === "\r" && this.buf[nl + 1] === "\n" ? 2 : 1;
      // A lone \r at the very end may be the first half of \r\n: wait for more.
      if (this.buf[nl] === "\r" && nl + 1 === this.buf.length) break;
      this.buf = this.buf.slice(nl + sep);
      if (line === "") {
        if (this.data.length) out.push({ id: this.id, event: this.event || "message", data: this.data.join("\n") });
        if (this.id !== undefined) this.lastId = this.id;
        this.data = [];
        this.event = "";
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "data") this.data.push(value);
      else if (field === "event") this.event = value;
      else if (field === "id" && !value.includes("\0")) this.id = value;
    }
    return out;
  }
}

export interface StreamHandle {
  close(): void;
}

interface StreamOpts {
  /** Each SSE message, or for text/plain one chunk of text as a "text" message. */
  onMessage: (m: SseMessage) => void;
  onError?: (err: ApiError) => void;
  onOpen?: () => void;
  /** Reconnect after the server closes the stream (SSE event streams); logs stop instead. */
  reconnect?: boolean;
  lastEventId?: string;
}

/** Opens a streamed GET with the credential; reconnects (with Last-Event-ID) when asked to. */
export function openStream(path: string, opts: StreamOpts): StreamHandle {
  const ctrl = new AbortController();
  let lastId = opts.lastEventId;
  let delay = 1000;
  const run = async () => {
    while (!ctrl.signal.aborted) {
      try {
        const headers = authHeaders({ accept: "text/event-stream, text/plain" });
        if (lastId) headers["last-event-id"] = lastId;
        const res = await fetch(`/api/v1${path}`, { headers, signal: ctrl.signal });
        if (!res.ok) {
          const err = await toApiError(res);
          opts.onError?.(err);
          // A missing route or a refused credential will not heal by retrying; a rate limit might.
          if (res.status !== 429 && res.status < 500) return;
          delay = Math.max(delay, 10_000);
        } else {
          opts.onOpen?.();
          delay = 1000;
          const isSse = (res.headers.get("content-type") ?? "").includes("text/event-stream");
          const parser = new SseParser();
          const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            if (!isSse) {
              opts.onMessage({ event: "text", data: value });
              continue;
            }
            for (const m of parser.push(value)) {
              if (m.id) lastId = m.id;
              opts.onMessage(m);
            }
          }
          if (!isSse) return;
        }
      } catch {
        if (ctrl.signal.aborted) return;
        opts.onError?.(new ApiError(0, "network", "Connection lost; reconnecting…"));
      }
      if (!opts.reconnect || ctrl.signal.aborted) return;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 30_000);
    }
  };
  void run();
  return { close: () => ctrl.abort() };
}
