// Starts a real, throwaway `caddy run` for e2e tests: empty config dir, admin API on loopback.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCaddy {
  adminUrl: string;
  /** Caddy's data dir (its local CA lives under pki/authorities/local). */
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Spawns Caddy with only an admin listener on 127.0.0.1:<adminPort> and waits until it answers.
 * The HTTP(S) ports are whatever the config loaded later says (createCaddyProxy writes them).
 */
export async function startCaddy(opts: { adminPort: number; httpPort?: number; httpsPort?: number }): Promise<TestCaddy> {
  const dir = mkdtempSync(join(tmpdir(), "staxa-caddy-"));
  const adminUrl = `http://127.0.0.1:${opts.adminPort}`;
  const configFile = join(dir, "initial.json");
  writeFileSync(configFile, JSON.stringify({ admin: { listen: `127.0.0.1:${opts.adminPort}` } }));
  const proc = Bun.spawn(["caddy", "run", "--config", configFile], {
    env: { ...process.env, XDG_DATA_HOME: join(dir, "data"), XDG_CONFIG_HOME: join(dir, "config"), HOME: dir },
    stdout: "ignore",
    // A file, not a pipe: nobody reads a pipe and a full one would block Caddy mid-log.
    stderr: Bun.file(join(dir, "caddy.log")),
  });
  const stop = async () => {
    proc.kill();
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) {
      const err = await Bun.file(join(dir, "caddy.log")).text();
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`caddy exited with ${proc.exitCode}: ${err.slice(-2000)}`);
    }
    try {
      const res = await fetch(`${adminUrl}/config/`, { signal: AbortSignal.timeout(500) });
      if (res.ok) return { adminUrl, dataDir: join(dir, "data", "caddy"), stop };
    } catch {}
    await Bun.sleep(50);
  }
  await stop();
  throw new Error(`caddy admin API did not answer on ${adminUrl}`);
}
