// Runs one git command: argv only, its own process group killed at the deadline, every output line redacted.
import { Upstream } from "../lib/errors.ts";

export type GitRun = (args: string[], failure: string, quiet?: boolean) => Promise<string>;

export interface RunOptions {
  env: Record<string, string>;
  /** Epoch ms after which the command (and its children: ssh, remote helpers) is killed. */
  deadline: number;
  /** Strings replaced by **** in every line logged or thrown. */
  secrets: string[];
  onLog: (line: string) => void;
  /** What the error message says went wrong. */
  failure: string;
}

/** Masks secrets and any user:password@ that git might print. */
export function redactLine(line: string, secrets: string[]): string {
  let out = line;
  for (const s of secrets) if (s) out = out.split(s).join("****");
  return out.replace(/(\/\/)[^/@\s]*:[^/@\s]*@/g, "$1****@");
}

/** Runs `git <args>`; resolves stdout, rejects with Upstream carrying the redacted stderr tail. */
export async function runGit(args: string[], o: RunOptions): Promise<string> {
  const remaining = o.deadline - Date.now();
  if (remaining <= 0) throw new Upstream("git", `${o.failure}: timed out`);
  const proc = Bun.spawn(["git", ...args], { env: o.env, stdin: "ignore", stdout: "pipe", stderr: "pipe", detached: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-proc.pid, "SIGKILL");
    } catch {
      proc.kill("SIGKILL");
    }
  }, remaining);
  const tail: string[] = [];
  const emit = (raw: string) => {
    const line = redactLine(raw.trimEnd(), o.secrets);
    if (!line) return;
    o.onLog(line);
    tail.push(line);
    if (tail.length > 5) tail.shift();
  };
  try {
    const [stdout] = await Promise.all([new Response(proc.stdout).text(), readLines(proc.stderr, emit)]);
    const code = await proc.exited;
    if (timedOut) throw new Upstream("git", `${o.failure}: timed out after ${Math.round(remaining / 1000)}s`);
    if (code !== 0) throw new Upstream("git", `${o.failure}${tail.length ? `: ${tail.join(" | ")}` : ` (exit ${code})`}`);
    return stdout;
  } finally {
    clearTimeout(timer);
  }
}

async function readLines(stream: ReadableStream<Uint8Array>, emit: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buf = "";
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    const parts = buf.split(/\r?\n|\r/);
    buf = parts.pop() ?? "";
    for (const p of parts) emit(p);
  }
  if (buf) emit(buf);
}
