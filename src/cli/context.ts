// The composition root's wiring: the one context of a running appliance, built once from a Config and passed
// to the API, the pipeline and every background worker.
import type { Config } from "../config.ts";
import type { Ctx } from "../core/context.ts";
import type { ApiDeps } from "../api/deps.ts";
import { openDb, migrate } from "../store/db.ts";
import { ReadMemo } from "../store/read-memo.ts";
import { SecretBox } from "../lib/crypto.ts";
import { loadOrCreateKey } from "../lib/secret-key.ts";
import { createLogger } from "../lib/log.ts";
import { EventBus } from "../events/bus.ts";
import { createRuntime } from "../runtime/engine.ts";
import { createCaddyProxy } from "../proxy/caddy.ts";
import { createGit } from "../build/git.ts";
import { createFirewall } from "../runtime/firewall.ts";
import { ApplianceMetrics } from "../metrics/metrics.ts";
import { createDeployer } from "../core/deploy/deployer.ts";
import { KeyCache } from "../core/identity/keys.ts";
import { createJwtVerifier, SessionKey } from "../core/identity/sessions.ts";
import { FirewallState } from "../core/network/enforcement.ts";
import { RateLimiter } from "../api/plugins/rate-limit.ts";
import { StreamSlots } from "../api/stream-slots.ts";
import { UsageStore } from "../core/usage/store.ts";
import { registerUsageMetrics } from "../metrics/usage.ts";

export function createContext(config: Config): ApiDeps {
  const db = openDb(config.dbPath);
  migrate(db);
  const log = createLogger(config.logLevel as "info");
  const ctx = assembleContext({
    config,
    db,
    box: new SecretBox(loadOrCreateKey(config.secretKeyPath)),
    log,
    bus: new EventBus(db),
    runtime: createRuntime(config),
    proxy: createCaddyProxy(config, db, log),
    git: createGit(config),
    now: () => new Date(),
    firewall: createFirewall(),
  });
  // Dashboard auth: built-in sessions always, OIDC JWTs when an issuer is configured.
  ctx.verifyJwt = createJwtVerifier(ctx);
  return ctx;
}

/** The outside systems of a context (tests pass fakes); `assembleContext` builds everything else. */
export type ContextParts = Pick<Ctx, "config" | "db" | "box" | "log" | "bus" | "runtime" | "proxy" | "git" | "now" | "firewall">;

/**
 * The one context over `parts`, with the process-wide services built here and nowhere else: the deploy
 * engine (its queue depth reported to the metrics), key cache, session key, read memo, firewall state,
 * metrics (counting deployments from the bus), rate limiter and stream slots.
 */
export function assembleContext(parts: ContextParts): ApiDeps {
  const { config, db, box, bus } = parts;
  const metrics = new ApplianceMetrics(db);
  metrics.watch(bus);
  const usage = new UsageStore();
  registerUsageMetrics(metrics.registry, usage);
  return {
    ...parts,
    firewallState: new FirewallState(),
    deployer: createDeployer(config.buildConcurrency, (depth) => metrics.queueDepth.set({}, depth)),
    keys: new KeyCache(),
    sessionKey: new SessionKey(db, box),
    reads: new ReadMemo(db),
    metrics,
    usage,
    limiter: new RateLimiter(config.rateLimitScale),
    streams: new StreamSlots(config.sseMaxPerProvider),
  };
}
