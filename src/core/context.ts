// Everything core needs from the outside, assembled once by main.ts (or a test).
import type { Config } from "../config.ts";
import type { Db } from "../store/db.ts";
import type { SecretBox } from "../lib/crypto.ts";
import type { Logger } from "../lib/log.ts";
import type { EventBus } from "../events/bus.ts";
import type { Runtime } from "../runtime/types.ts";
import type { Proxy } from "../proxy/types.ts";
import type { Git } from "../build/types.ts";
import type { Firewall } from "../runtime/firewall.ts";

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
}
