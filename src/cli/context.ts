// Builds the real core context from a Config: the composition root's wiring.
import type { Config } from "../config.ts";
import type { Ctx } from "../core/context.ts";
import { openDb, migrate } from "../store/db.ts";
import { SecretBox } from "../lib/crypto.ts";
import { loadOrCreateKey } from "../lib/secret-key.ts";
import { createLogger } from "../lib/log.ts";
import { EventBus } from "../events/bus.ts";
import { createDockerRuntime } from "../runtime/docker.ts";
import { createCaddyProxy } from "../proxy/caddy.ts";
import { createGit } from "../build/git.ts";
import { createFirewall } from "../runtime/firewall.ts";

export function createContext(config: Config): Ctx {
  const db = openDb(config.dbPath);
  migrate(db);
  const log = createLogger(config.logLevel as "info");
  return {
    config,
    db,
    box: new SecretBox(loadOrCreateKey(config.secretKeyPath)),
    log,
    bus: new EventBus(db),
    runtime: createDockerRuntime(config),
    proxy: createCaddyProxy(config),
    git: createGit(config),
    now: () => new Date(),
    firewall: createFirewall(),
  };
}
