// Why a health check failed, in words a user can act on: the exit, the memory, the socket the app really opened.
import type { ListeningSocket } from "../../runtime/types.ts";
import type { HealthFailure } from "./health.ts";

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;
const show = (s: ListeningSocket) => (s.address.includes(":") ? `[${s.address}]:${s.port}` : `${s.address}:${s.port}`);

/** What is wrong with where the app listens, as a stable key; undefined when the socket table explains nothing. */
export function wrongSocket(sockets: ListeningSocket[], port: number): string | undefined {
  if (sockets.some((s) => s.port === port && !LOOPBACK.test(s.address))) return undefined; // listens where it should: slow or not HTTP
  const key = [...new Set(sockets.map(show))].sort().join(",");
  return key || undefined;
}

/** The likely cause of `f` for an app expected on `port`, and the one other port it listens on to every address. */
export function likelyCause(f: HealthFailure, port: number, timeoutMs: number): { words: string; otherPort?: number } {
  if (f.oom_killed)
    return { words: "the app ran out of memory; give the tenant a larger resource_size or make the app use less" };
  if (f.exit_code === 0)
    return { words: "the start command finished (exit code 0) instead of running a server; it must keep running" };
  if (f.exit_code !== null)
    return { words: `the app crashed while starting (exit code ${f.exit_code}); its last log lines say why` };
  const loopback = f.listening.filter((s) => LOOPBACK.test(s.address));
  const open = [...new Set(f.listening.filter((s) => !LOOPBACK.test(s.address)).map((s) => s.port))];
  const onLoopback = loopback.find((x) => x.port === port) ?? (open.length ? undefined : loopback[0]);
  if (!open.includes(port) && onLoopback)
    return { words: `your app listens on ${show(onLoopback)} only; bind 0.0.0.0 or read HOST/PORT` };
  if (!open.includes(port) && open.length) {
    const words = `your app listens on port ${open.join(", ")}, not on ${port} (the PORT it was given); read PORT, or set the app port to ${open[0]}`;
    return open.length === 1 ? { words, otherPort: open[0] } : { words };
  }
  if (f.last_status !== null)
    return {
      words: `the app answers ${new URL(f.url).pathname} with HTTP ${f.last_status}: it runs but fails on that path (set a healthcheck path that answers, or fix the error its log shows)`,
    };
  if (/ECONNREFUSED|refused/i.test(f.last_error ?? ""))
    return {
      words: `nothing accepted connections on port ${port} within ${Math.round(timeoutMs / 1000)}s: the app starts slowly, or listens on no TCP port`,
    };
  return { words: `the app accepted no request within ${Math.round(timeoutMs / 1000)}s (last error: ${f.last_error ?? "none"})` };
}
