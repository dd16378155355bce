// The appliance as a process of its own (`staxa serve`), as systemd runs it: started until /healthz answers, stopped
// with SIGTERM (SIGKILL after 20 s), and an API client for it.
import { readFileSync } from "node:fs";

export interface ApplianceProcess {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The running process, for kill -9 and its exit code. */
  readonly proc: ReturnType<typeof Bun.spawn> | undefined;
}

/**
 * `argv` runs the appliance (the compiled binary or `bun run src/main.ts serve`); its stderr goes to `stderrFile()`,
 * its stdout to `stdoutFile()` when given (tests that grep everything the appliance wrote).
 */
export function applianceProcess(o: {
  argv: string[];
  env: Record<string, string | undefined>;
  port: number;
  stderrFile: () => string;
  stdoutFile?: () => string;
  cwd?: string;
}): ApplianceProcess {
  let proc: ReturnType<typeof Bun.spawn> | undefined;
  return {
    get proc() {
      return proc;
    },
    async start() {
      const log = o.stderrFile();
      proc = Bun.spawn(o.argv, {
        env: o.env,
        cwd: o.cwd,
        stdout: o.stdoutFile ? Bun.file(o.stdoutFile()) : "ignore",
        stderr: Bun.file(log),
      });
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        if (proc.exitCode !== null)
          throw new Error(`staxa serve exited ${proc.exitCode}: ${readFileSync(log, "utf8").slice(-2000)}`);
        if (
          await fetch(`http://127.0.0.1:${o.port}/healthz`).then(
            (r) => r.ok,
            () => false,
          )
        )
          return;
        await Bun.sleep(100);
      }
      throw new Error("staxa serve did not answer /healthz within 30 s");
    },
    async stop() {
      const p = proc;
      if (!p || p.exitCode !== null) return;
      p.kill("SIGTERM");
      const t = setTimeout(() => p.kill("SIGKILL"), 20_000);
      await p.exited;
      clearTimeout(t);
    },
  };
}

/** JSON over the appliance's socket with a bearer key; a body that is not JSON reads as undefined. */
export function apiClient(port: number, key: () => string) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { authorization: `Bearer ${key()}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, json: (await res.json().catch(() => undefined)) as any };
  };
}
