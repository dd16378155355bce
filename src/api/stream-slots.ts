// Bounds the long-lived responses (event streams, log follows) each provider holds open: excess gets 429.
import { RateLimited } from "../lib/errors.ts";

export type StreamKind = "events" | "logs";

/** 429 naming the limit; a stream frees its slot when it ends or its client goes away. */
export class TooManyStreams extends RateLimited {
  constructor(kind: StreamKind, limit: number) {
    super(5);
    this.message = `At most ${limit} concurrent ${kind === "events" ? "event streams" : "log streams"} per provider; close one first`;
    Object.assign(this.details, { limit, stream: kind });
  }
}

export class StreamSlots {
  private readonly open = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Count of open streams of a provider and kind (tests, metrics). */
  count(providerId: string, kind: StreamKind): number {
    return this.open.get(`${providerId}:${kind}`) ?? 0;
  }

  /** Takes a slot or throws TooManyStreams; returns an idempotent release. */
  acquire(providerId: string, kind: StreamKind): () => void {
    const key = `${providerId}:${kind}`;
    const n = this.open.get(key) ?? 0;
    if (n >= this.max) throw new TooManyStreams(kind, this.max);
    this.open.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(key) ?? 1) - 1;
      if (left <= 0) this.open.delete(key);
      else this.open.set(key, left);
    };
  }

  /** The stream `make` builds (only once a slot is free), holding the slot until it ends, is cancelled, or the request aborts. */
  guard(
    providerId: string,
    kind: StreamKind,
    make: () => ReadableStream<Uint8Array>,
    request: AbortSignal,
  ): ReadableStream<Uint8Array> {
    const release = this.acquire(providerId, kind);
    request.addEventListener("abort", release, { once: true });
    let reader: ReadableStreamDefaultReader<Uint8Array>;
    try {
      reader = make().getReader();
    } catch (e) {
      release();
      throw e;
    }
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            release();
            controller.close();
          } else controller.enqueue(value);
        } catch (e) {
          release();
          controller.error(e);
        }
      },
      cancel(reason) {
        release();
        return reader.cancel(reason);
      },
    });
  }
}

/** The slots of the context (deps.streams, built once by the composition root). */
export function streamSlotsFor(deps: { streams: StreamSlots }): StreamSlots {
  return deps.streams;
}
