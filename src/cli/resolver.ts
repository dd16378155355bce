// `staxa resolver`: runs the route resolver (src/proxy/resolver.ts) until SIGTERM. Under install.sh it is its own
// systemd service (staxa-resolver.service); `staxa serve` starts one when none answers.
import { fstatSync } from "node:fs";
import type { Config } from "../config.ts";
import { createLogger } from "../lib/log.ts";
import { startResolver } from "../proxy/resolver.ts";

export async function resolverCommand(config: Config): Promise<void> {
  const log = createLogger(config.logLevel as "info");
  const resolver = await startResolver(config, log);
  // The chosen port on stdout: with STAXA_RESOLVER_PORT=0 (tests) this is how the starter learns it.
  process.stdout.write(`resolver listening on 127.0.0.1:${resolver.port}\n`);
  const stop = () => {
    resolver.stop();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // Started with a pipe or socket for stdin (a test harness): it ends with its starter, even one killed with -9. Under systemd
  // or `staxa serve` stdin is /dev/null and it runs on its own.
  const stdin = fstatSync(0);
  if (stdin.isFIFO() || stdin.isSocket()) {
    process.stdin.on("end", stop);
    process.stdin.resume();
  }
}
