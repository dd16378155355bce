// Turns Docker's byte streams into lines: multiplexed log frames (stdout/stderr) and JSON progress lines.

type Readable = NodeJS.ReadableStream & { destroy?: (err?: Error) => void };

/** Collects text and hands back complete lines; `flush` returns the unterminated rest. */
export class LineBuffer {
  private rest = "";
  private decoder = new TextDecoder();
  push(chunk: Uint8Array): string[] {
    const parts = (this.rest + this.decoder.decode(chunk, { stream: true })).split("\n");
    this.rest = parts.pop() ?? "";
    return parts.map((l) => l.replace(/\r$/, ""));
  }
  flush(): string[] {
    const last = this.rest + this.decoder.decode();
    this.rest = "";
    return last ? [last.replace(/\r$/, "")] : [];
  }
}

/**
 * Demultiplexes Docker's attach/log framing: each frame is an 8-byte header
 * [stream type, 0, 0, 0, size as big-endian uint32] then `size` bytes of payload.
 * Keeps one line buffer per stream so a line split across frames stays whole.
 */
export class FrameDemuxer {
  private pending = Buffer.alloc(0);
  private lines = new Map<number, LineBuffer>();
  push(chunk: Uint8Array): string[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : Buffer.from(chunk);
    const out: string[] = [];
    while (this.pending.length >= 8) {
      const kind = this.pending[0]!;
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const payload = this.pending.subarray(8, 8 + size);
      this.pending = this.pending.subarray(8 + size);
      out.push(...this.buffer(kind).push(payload));
    }
    return out;
  }
  flush(): string[] {
    return [...this.lines.values()].flatMap((b) => b.flush());
  }
  private buffer(kind: number): LineBuffer {
    let b = this.lines.get(kind);
    if (!b) this.lines.set(kind, (b = new LineBuffer()));
    return b;
  }
}

/**
 * Yields the lines of a Docker log body (a Buffer when not following, a stream when following).
 * The stream is destroyed when the signal aborts or the consumer stops early: no leaked Docker stream.
 */
export async function* logLines(body: Buffer | Readable, multiplexed: boolean, signal?: AbortSignal): AsyncGenerator<string> {
  const splitter = multiplexed ? new FrameDemuxer() : new LineBuffer();
  if (Buffer.isBuffer(body)) {
    yield* splitter.push(body);
    yield* splitter.flush();
    return;
  }
  const stream = body;
  const stop = () => stream.destroy?.();
  if (signal?.aborted) return stop();
  signal?.addEventListener("abort", stop, { once: true });
  try {
    for await (const chunk of stream as AsyncIterable<Uint8Array | string>) {
      yield* splitter.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    }
    yield* splitter.flush();
  } catch (err) {
    // Destroying the stream on abort surfaces as a premature-close error: that is the normal end.
    if (!signal?.aborted) throw err;
  } finally {
    signal?.removeEventListener("abort", stop);
    stop();
  }
}

/** Reads newline-delimited JSON (build and pull progress), calling `onObject` for each object. */
export async function readJsonLines(stream: Readable, onObject: (obj: Record<string, unknown>) => void): Promise<void> {
  const lines = new LineBuffer();
  const handle = (line: string) => {
    if (!line.trim()) return;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line);
    } catch {
      obj = { stream: line };
    }
    onObject(obj);
  };
  for await (const chunk of stream as AsyncIterable<Uint8Array | string>) {
    for (const l of lines.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk)) handle(l);
  }
  for (const l of lines.flush()) handle(l);
}
