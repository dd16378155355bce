// Everything core needs from the outside, assembled once by the composition root (cli/context.ts) or a test
// (test/support/ctx.ts). Process-wide services are fields here, never module-level state keyed by an object.
import type { Config } from "../config.ts";
import type { Db } from "../store/db.ts";
import type { SecretBox } from "../lib/crypto.ts";
import type { Logger } from "../lib/log.ts";
import type { EventBus } from "../events/bus.ts";
import type { Runtime } from "../runtime/types.ts";
import type { Proxy } from "../proxy/types.ts";
import type { Git } from "../build/types.ts";
import type { Firewall } from "../runtime/firewall.ts";
import type { ApplianceMetrics } from "../metrics/metrics.ts";
import type { ReadMemo } from "../store/read-memo.ts";
import type { Deployer } from "./deploy/deployer.ts";
import type { KeyCache } from "./identity/keys.ts";
import type { SessionKey } from "./identity/sessions.ts";
import type { FirewallState } from "./network/enforcement.ts";
import type { UsageStore } from "./usage/store.ts";

export interface Ctx {
  config: Config;
  db: Db;
  box: SecretBox;
  log: Logger;
  bus: EventBus;
  runtime: Runtime;
  proxy: Proxy;
  git: Git;
  /** Injected clock so the scheduler's TTLs can be tested. */
  now: () => Date;
  /** Host firewall (iptables) for network rules; absent in tests that need none. */
  firewall?: Firewall;
  /** What this process knows of the firewall: chains set up, each tenant's change in flight. */
  firewallState: FirewallState;
  /** The deploy engine: per-tenant queue, build slots, health probe, cancellation. */
  deployer: Deployer;
  /** API keys the store resolved recently. */
  keys: KeyCache;
  /** The HS256 key of built-in dashboard sessions. */
  sessionKey: SessionKey;
  /** Hot reads reused until the next write on `db`. */
  reads: ReadMemo;
  /** The appliance's metrics (GET /metrics). */
  metrics: ApplianceMetrics;
  /** Live resource usage of tenants: a bounded history per service, fed by the usage sampler. */
  usage: UsageStore;
}
