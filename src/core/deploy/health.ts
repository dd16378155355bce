// Waits for a candidate container to answer HTTP, and explains precisely why when it does not.
import type { ListeningSocket, Runtime } from "../../runtime/types.ts";
import { likelyCause, wrongSocket } from "./health-cause.ts";

/** GETs `url`; resolves with the status code, rejects on connection errors or after `timeoutMs`. */
export type Probe = (url: string, timeoutMs: number) => Promise<number>;

/** What httpProbe reports for a port that accepts TCP but speaks another protocol (a database or cache service). */
export const NOT_HTTP = 0;

export const httpProbe: Probe = async (url, timeoutMs) => {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    await res.body?.cancel();
    return res.status;
  } catch (e) {
    // PostgreSQL or Redis from the catalog never answer HTTP, yet they serve: they accept the connection and reply
    // in their own protocol or hang up on ours. A refused connection or silence still fails.
    if (await answersTcp(new URL(url), timeoutMs)) return NOT_HTTP;
    throw e;
  }
};

/** True when host:port accepts a connection and then answers something other than HTTP, or closes it, within `timeoutMs`. */
function answersTcp(url: URL, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let opened = false;
    let settled = false;
    let socket: { end(): void } | undefined;
    const done = (v: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket?.end();
      resolve(v);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    Bun.connect({
      hostname: url.hostname.replace(/^\[|\]$/g, ""),
      port: Number(url.port || 80),
      socket: {
        open(s) {
          opened = true;
          socket = s;
          if (settled) s.end();
          else s.write(`GET ${url.pathname} HTTP/1.0\r\n\r\n`);
        },
        // an HTTP answer here (a slow app, after fetch gave up) is for the HTTP path to judge, 5xx included
        data: (_s, bytes) => done(!bytes.toString("latin1", 0, 5).startsWith("HTTP/")),
        close: () => done(opened),
        error: () => done(false),
        connectError: () => done(false),
      },
    }).catch(() => done(false));
  });
}

export interface HealthFailure {
  message: string;
  url: string;
  last_status: number | null;
  last_error: string | null;
  exit_code: number | null;
  oom_killed: boolean;
  timed_out: boolean;
  logs: string[];
  /** Sockets the container listened on when the check gave up (empty when unknown or none). */
  listening: ListeningSocket[];
  /** The one other port the app listens on to every address, when that explains the failure. */
  listens_on_port: number | null;
  /** What probably went wrong, in words. */
  likely_cause: string;
}

/** Last `n` log lines of a container; never throws (a diagnosis must not hide the original failure). */
export async function tailLogs(runtime: Runtime, containerId: string, n = 30): Promise<string[]> {
  const lines: string[] = [];
  try {
    for await (const line of runtime.logs(containerId, { tail: n, follow: false })) lines.push(line);
  } catch {
    // the container may be gone already
  }
  return lines.slice(-n);
}

/**
 * Polls until the app answers with a status below 500 (any answer proves it serves HTTP),
 * the container exits, or the deadline passes. Returns undefined when healthy.
 */
export async function waitHealthy(
  runtime: Runtime,
  probe: Probe,
  c: { id: string; url: string; timeoutMs: number; signal?: AbortSignal },
): Promise<HealthFailure | undefined> {
  const deadline = Date.now() + c.timeoutMs;
  let lastStatus: number | null = null;
  let lastError: string | null = null;
  let delay = 50;
  const port = Number(new URL(c.url).port || 80);
  const started = Date.now();
  let sockets: ListeningSocket[] = [];
  let seen = "";
  let checkedAt = 0;
  while (true) {
    if (c.signal?.aborted)
      return failure("deployment cancelled", {
        timed_out: false,
        likely_cause: "a newer deployment or the tenant's deletion replaced this one",
      });
    const info = await runtime.inspectContainer(c.id);
    if (!info || !info.running) {
      const code = info?.exitCode ?? null;
      const why = info?.oomKilled ? " (killed: out of memory)" : "";
      return failure(`container exited with code ${code ?? "unknown"}${why} before answering ${c.url}`, {
        exit_code: code,
        oom_killed: !!info?.oomKilled,
        timed_out: false,
      });
    }
    try {
      lastStatus = await probe(c.url, Math.min(2000, Math.max(100, deadline - Date.now())));
      lastError = null;
      if (lastStatus < 500) return undefined;
    } catch (e) {
      lastError = (e as Error).message ?? String(e);
      // Refused for a while: the kernel's socket table says whether the app listens elsewhere. The same answer twice,
      // a second apart, ends the wait early (an app opening a side port before its main one gets the second look).
      if (runtime.listeningSockets && Date.now() - started >= 2000 && Date.now() - checkedAt >= 1000) {
        checkedAt = Date.now();
        sockets = await runtime.listeningSockets(c.id).catch(() => []);
        const wrong = wrongSocket(sockets, port);
        if (wrong && wrong === seen) return failure(`GET ${c.url} was refused`, { timed_out: false });
        seen = wrong ?? "";
      }
    }
    if (Date.now() >= deadline) {
      const last = lastStatus !== null ? `last answer: HTTP ${lastStatus}` : `last error: ${lastError ?? "no answer"}`;
      return failure(`health check GET ${c.url} did not succeed within ${Math.round(c.timeoutMs / 1000)}s (${last})`, {
        timed_out: true,
      });
    }
    await Bun.sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    delay = Math.min(delay * 2, 250);
  }

  async function failure(message: string, more: Partial<HealthFailure>): Promise<HealthFailure> {
    if (!sockets.length && runtime.listeningSockets && more.exit_code === undefined)
      sockets = await runtime.listeningSockets(c.id).catch(() => []);
    const f: HealthFailure = {
      message,
      url: c.url,
      last_status: lastStatus,
      last_error: lastError,
      exit_code: null,
      oom_killed: false,
      timed_out: false,
      listens_on_port: null,
      likely_cause: "",
      ...more,
      logs: await tailLogs(runtime, c.id),
      listening: sockets,
    };
    const cause = f.likely_cause ? { words: f.likely_cause } : likelyCause(f, port, c.timeoutMs);
    return {
      ...f,
      message: `${message}. Likely cause: ${cause.words}`,
      likely_cause: cause.words,
      listens_on_port: cause.otherPort ?? null,
    };
  }
}
