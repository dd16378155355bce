// `staxa serve`: opens the store, starts the API, the scheduler and reconciliation; stops cleanly on SIGTERM.
import type { Config } from "../config.ts";
import { createApp } from "../app.ts";
import { SERVER_BODY_CEILING } from "../api/plugins/json-body.ts";
import { createContext } from "./context.ts";
import { failInterrupted, reconcile } from "../core/deploy/reconcile.ts";
import { startTenantJobs } from "../scheduler/tenant-jobs.ts";
import type { Ctx } from "../core/context.ts";
import { ensureSetupToken } from "../core/identity/sessions.ts";
import { ensureCaddy } from "../proxy/managed.ts";
import { ensureResolver } from "../proxy/resolver-client.ts";

export async function serve(config: Config): Promise<void> {
  const ctx = createContext(config);
  // While no admin user exists, the dashboard asks for a one-time setup token: printed here, and written to a
  // file that install.sh prints at the end of an install.
  const setupToken = ensureSetupToken(ctx);
  if (setupToken)
    process.stderr.write(`\nNo admin yet. Open the dashboard and use this one-time setup token:\n  ${setupToken}\n\n`);
  (await import("./setup-token-file.ts")).writeSetupTokenFile(config.dataDir, setupToken);
  // Before the API answers: deployments a crash interrupted are failed, so none stays "running" forever.
  const interrupted = failInterrupted(ctx);
  // Development and the README's run command: with no Caddy admin API answering, start caddy as a child
  // (STAXA_MANAGE_CADDY=auto|1); under install.sh, Caddy is its own service and this does nothing.
  const managedCaddy = ensureCaddy(config, ctx.log).catch((e) => {
    ctx.log.error("could not start caddy; tenants will not be routed until its admin API answers", {
      error: (e as Error).message,
    });
    return undefined;
  });
  // Deployments requested before the first start-up reconciliation has run wait in their queue: it decides
  // from the store and Docker what a previous process left. If Docker or Caddy is down it fails, and they
  // go ahead (and fail with a clear error); its retries leave tenants with work in progress alone.
  let firstPass!: () => void;
  ctx.deployer.queue.holdUntil(new Promise<void>((resolve) => (firstPass = resolve)));
  void managedCaddy.then(() => startPipeline(ctx, interrupted, firstPass));
  const app = createApp(ctx);
  // development: false whatever NODE_ENV says: an appliance never serves Bun's development error pages (nor pays for that mode).
  app.listen({ port: config.port, hostname: config.host, maxRequestBodySize: SERVER_BODY_CEILING, development: false });
  // Background workers; each returns its stop function, all called on shutdown.
  const webhooks = (await import("../core/webhooks/delivery.ts")).startWebhookWorker(ctx); // pending deliveries resume here
  const stops: Array<() => unknown> = [
    () => webhooks.stop(),
    (await import("../scheduler/backup-job.ts")).startBackupJob(ctx), // off unless STAXA_BACKUP_CRON
    (await import("../core/github/status.ts")).startGitHubStatusReporter(ctx),
    (await import("../core/previews/comment.ts")).startPreviewReporter(ctx), // the PR comment of a preview
    (await import("../scheduler/previews-job.ts")).startPreviewExpiry(ctx), // previews past their TTL
    startTenantJobs(ctx),
    (await import("../scheduler/network-rules-job.ts")).startNetworkRuleExpiry(ctx),
    (await import("../scheduler/domains-job.ts")).startDomainJobs(ctx), // auto-verify, ssl_status, DNS drift
    (await import("../scheduler/images-job.ts")).startImageJobs(ctx), // image retention, build cache budget, disk guard
    (await import("../scheduler/jobs-job.ts")).startJobScheduler(ctx), // tenants' scheduled jobs
    (await import("../scheduler/tenant-backups-job.ts")).startTenantBackupScheduler(ctx), // tenants' volume backups
    (await import("../scheduler/usage-job.ts")).startUsageSampler(ctx), // live resource usage
    (await import("../core/deploy/route-follow.ts")).startRouteFollower(ctx), // swarm: routes follow moved tasks
  ];
  ctx.log.info("staxa listening", { port: config.port, data_dir: config.dataDir, base_domain: config.baseDomain });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    ctx.log.info("shutting down", { signal });
    await app.stop();
    await Promise.allSettled(stops.map(async (s) => s()));
    await (await managedCaddy)?.stop();
    ctx.db.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

/**
 * Caddy's base config, then reconciliation, retried every 30 s while Docker or Caddy is down (the API answers
 * meanwhile). `attempted` is called once the first attempt has ended, however it ended.
 */
async function startPipeline(ctx: Ctx, interrupted: number, attempted: () => void): Promise<void> {
  for (;;) {
    try {
      // The route resolver serves tenants whether or not this process runs: its own service under install.sh,
      // started here (detached, so it outlives us) when none answers.
      await ensureResolver(ctx.config, ctx.log);
      await ctx.proxy.init();
      const r = await reconcile(ctx, interrupted);
      ctx.log.info("reconciled", { ...r, restored: r.restored.length, orphans_removed: r.orphansRemoved.length });
      await (await import("../core/network/rules.ts")).reapplyAllNetworkRules(ctx); // iptables rules do not survive a reboot; never throws
      return;
    } catch (e) {
      ctx.log.error("start-up reconciliation failed; retrying in 30s", { error: (e as Error).message });
    } finally {
      attempted();
    }
    await Bun.sleep(30_000);
  }
}
