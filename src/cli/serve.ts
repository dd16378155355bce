// `staxa serve`: opens the store, starts the API, the scheduler and reconciliation; stops cleanly on SIGTERM.
import type { Config } from "../config.ts";
import { createApp } from "../app.ts";
import { createContext } from "./context.ts";
import { RateLimiter } from "../api/plugins/rate-limit.ts";
import { createJwtVerifier, ensureSetupToken } from "../core/sessions.ts";

export async function serve(config: Config): Promise<void> {
  const ctx = createContext(config);
  // Dashboard auth (issue 2): built-in session + OIDC JWTs; one-time setup token while no user exists.
  const verifyJwt = createJwtVerifier(ctx);
  const setupToken = ensureSetupToken(ctx);
  if (setupToken) process.stderr.write(`\nNo admin yet. Open the dashboard and use this one-time setup token:\n  ${setupToken}\n\n`);
  (await import("./setup-token-file.ts")).writeSetupTokenFile(config.dataDir, setupToken); // install.sh prints it (issue 11)
  const app = createApp({ ...ctx, limiter: new RateLimiter(config.rateLimitScale), verifyJwt });
  app.listen({ port: config.port, hostname: config.host, maxRequestBodySize: config.maxBodyBytes + 1024 });
  (await import("../core/webhook-delivery.ts")).startWebhookWorker(ctx); // webhooks (issue 10): pending deliveries resume here
  (await import("../scheduler/backup-job.ts")).startBackupJob(ctx); // scheduled backups (issue 11), off unless STAXA_BACKUP_CRON
  ctx.log.info("staxa listening", { port: config.port, data_dir: config.dataDir, base_domain: config.baseDomain });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    ctx.log.info("shutting down", { signal });
    await app.stop();
    ctx.db.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}
