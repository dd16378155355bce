// Development convenience: run Caddy as a child of the appliance when no admin API answers.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config.ts";
import type { Logger } from "../lib/log.ts";
import { Upstream } from "../lib/errors.ts";
import { AdminClient } from "./admin-client.ts";
import { baseConfig, proxyOptions } from "./config.ts";

export interface ManagedCaddy {
  stop(): Promise<void>;
}

/**
 * Starts `caddy run --resume` under dataDir/caddy when STAXA_MANAGE_CADDY is "1", or "auto" and
 * no admin API answers and caddy is on PATH. Returns undefined when someone else runs Caddy.
 */
export async function ensureCaddy(config: Config, log: Logger): Promise<ManagedCaddy | undefined> {
  if (config.manageCaddy === "0") return undefined;
  const admin = new AdminClient(config.caddyAdminUrl);
  if (await admin.alive()) {
    log.info("caddy admin API already answers; not starting one", { admin: config.caddyAdminUrl });
    return undefined;
  }
  const bin = Bun.which("caddy");
  if (!bin) {
    if (config.manageCaddy === "1") throw new Upstream("caddy", "STAXA_MANAGE_CADDY=1 but caddy is not on PATH");
    log.warn("no caddy admin API and no caddy on PATH: tenants will not be routed", { admin: config.caddyAdminUrl });
    return undefined;
  }

  const dir = join(config.dataDir, "caddy");
  mkdirSync(join(dir, "data"), { recursive: true, mode: 0o700 });
  mkdirSync(join(dir, "config"), { recursive: true, mode: 0o700 });
  // Only used on the very first start: afterwards --resume loads Caddy's autosave, routes included.
  const initial = join(dir, "initial.json");
  writeFileSync(initial, JSON.stringify(baseConfig(proxyOptions(config))), { mode: 0o600 });
  const proc = Bun.spawn([bin, "run", "--resume", "--config", initial], {
    cwd: dir,
    env: { ...process.env, XDG_DATA_HOME: join(dir, "data"), XDG_CONFIG_HOME: join(dir, "config") },
    stdout: "ignore",
    stderr: Bun.file(join(dir, "caddy.log")),
  });

  const stop = async () => {
    if (proc.exitCode !== null) return;
    proc.kill("SIGTERM");
    const done = await Promise.race([proc.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
    if (!done) proc.kill("SIGKILL");
    await proc.exited;
  };

  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null)
      throw new Upstream("caddy", `managed caddy exited with ${proc.exitCode}; see ${join(dir, "caddy.log")}`);
    if (await admin.alive()) {
      log.info("managed caddy started", { pid: proc.pid, admin: config.caddyAdminUrl });
      return { stop };
    }
    await Bun.sleep(100);
  }
  await stop();
  throw new Upstream("caddy", `managed caddy did not answer on ${config.caddyAdminUrl}; see ${join(dir, "caddy.log")}`);
}
