// The appliance's side of the resolver process: tell it a route changed, ask what it serves, start it when absent.
import { spawn } from "node:child_process";
import { existsSync, openSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../config.ts";
import type { Logger } from "../lib/log.ts";
import { Invalid, Upstream } from "../lib/errors.ts";

export interface ResolverStatus {
  pid: number;
  db: string;
  rev: number;
  hosts: number;
}

export class ResolverClient {
  private readonly base: string;
  constructor(port: number) {
    this.base = `http://127.0.0.1:${port}`;
  }

  /** Makes the resolver read the table now; the answer says how long Caddy may still use answers from before. */
  async sync(hosts: string[]): Promise<{ rev: number; settle_ms: number }> {
    const res = await fetch(`${this.base}/sync`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ hosts }),
      signal: AbortSignal.timeout(2000),
    });
    if (!res.ok) throw new Upstream("resolver", `sync answered ${res.status}`);
    return (await res.json()) as { rev: number; settle_ms: number };
  }

  /** The resolver's status, or undefined when nothing answers on its port. */
  async status(): Promise<ResolverStatus | undefined> {
    try {
      const res = await fetch(`${this.base}/status`, { signal: AbortSignal.timeout(1000) });
      return res.ok ? ((await res.json()) as ResolverStatus) : undefined;
    } catch {
      return undefined;
    }
  }
}

/** argv that runs `staxa resolver` with this same program: the compiled binary, or bun with src/main.ts. */
export function resolverArgv(): string[] {
  if (!basename(process.execPath).startsWith("bun")) return [process.execPath, "resolver"];
  return [process.execPath, "run", fileURLToPath(new URL("../main.ts", import.meta.url)), "resolver"];
}

/**
 * Makes sure a resolver serves this store: under install.sh it is its own systemd service; otherwise one is started
 * here, detached, so that it outlives this process (the point of it). A resolver of another store on the port is an error.
 */
export async function ensureResolver(config: Config, log: Logger): Promise<void> {
  if (config.resolverPort === 0)
    throw new Invalid("STAXA_RESOLVER_PORT", "the appliance needs a fixed resolver port (0 is for tests)");
  const client = new ResolverClient(config.resolverPort);
  let running = await client.status();
  // A resolver whose store was deleted ends by itself within a second or two (a previous test appliance, say).
  for (let i = 0; i < 40 && running && running.db !== config.dbPath && !existsSync(running.db); i++) {
    await Bun.sleep(100);
    running = await client.status();
  }
  if (running) {
    if (running.db !== config.dbPath)
      throw new Upstream("resolver", `port ${config.resolverPort} serves another store (${running.db}); set STAXA_RESOLVER_PORT`);
    return;
  }
  const logFile = openSync(join(config.dataDir, "resolver.log"), "a", 0o600);
  const child = spawn(resolverArgv()[0]!, resolverArgv().slice(1), {
    detached: true,
    stdio: ["ignore", logFile, logFile],
    env: process.env,
  });
  child.unref();
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await client.status()) {
      log.info("resolver started", { pid: child.pid, port: config.resolverPort });
      return;
    }
    if (child.exitCode !== null) break;
    await Bun.sleep(50);
  }
  throw new Upstream(
    "resolver",
    `staxa resolver did not answer on 127.0.0.1:${config.resolverPort}; see ${join(config.dataDir, "resolver.log")}`,
  );
}
