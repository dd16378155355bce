// Maps dockerode failures to Upstream("docker", …) with a message that carries no secret.
import { Upstream } from "../lib/errors.ts";

interface DockerError {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
  message?: string;
}

/** HTTP status Docker answered with, when it answered at all. */
export function dockerStatus(err: unknown): number | undefined {
  return (err as DockerError)?.statusCode;
}

/** True only when Docker itself said 404: a failed call is never read as "it is gone". */
export function isNotFound(err: unknown): boolean {
  return dockerStatus(err) === 404;
}

/** Replaces each secret (env values, passwords) found in `text` with ****. */
export function scrub(text: string, secrets: string[] = []): string {
  let out = text;
  // Longest first so a secret containing another is masked whole; very short values would mask ordinary words.
  for (const s of [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length)) out = out.split(s).join("****");
  return out;
}

/** The daemon's own message (not dockerode's "(HTTP code …)" wrapper), or a clear transport failure. */
export function dockerMessage(err: unknown): string {
  const e = err as DockerError;
  if (e?.code === "ENOENT" || e?.code === "ECONNREFUSED" || e?.code === "EACCES" || e?.code === "FailedToOpenSocket") {
    return "engine unreachable (is dockerd running and the socket readable?)";
  }
  const msg = e?.json?.message ?? e?.message ?? String(err);
  return msg.replace(/^\(HTTP code \d+\) [^-]*- /, "").trim();
}

/** Wraps any Docker failure as Upstream("docker", "<what>: <daemon message>"), secrets masked. */
export function upstream(what: string, err: unknown, secrets: string[] = []): Upstream {
  if (err instanceof Upstream) return err;
  return new Upstream("docker", scrub(`${what}: ${dockerMessage(err)}`, secrets));
}

/** Runs a Docker call, rethrowing failures as Upstream. */
export async function call<T>(what: string, fn: () => Promise<T>, secrets: string[] = []): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw upstream(what, err, secrets);
  }
}
