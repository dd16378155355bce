// croner jobs of custom domains: verify pending ones, refresh ssl_status from Caddy, and flag domains whose DNS moved away.
import { Cron } from "croner";
import * as domains from "../store/domains.ts";
import * as tenants from "../store/tenants.ts";
import { nowIso } from "../lib/ids.ts";
import { checkDomainDns, flagMisconfigured, markVerified, verifiedElsewhere, type DomainCtx } from "../core/domains/domains.ts";
import { refreshSsl } from "../core/domains/tls.ts";

/** Unverified domains are tried for this long after they were added; after that only POST …/verify checks them. */
export const AUTO_VERIFY_MS = 7 * 24 * 3_600_000;

/**
 * Every minute: unverified domains whose records now exist become verified (as POST …/verify would),
 * and verified domains without a live certificate are probed again. Never throws.
 */
export async function checkPendingDomains(ctx: DomainCtx): Promise<void> {
  const now = ctx.now().getTime();
  for (const d of domains.listAll(ctx.db)) {
    try {
      const t = tenants.findById(ctx.db, d.tenant_id);
      if (!t || t.status === "deleting") continue;
      if (!d.verified) {
        // A claim whose name another tenant verified first cannot win (verify answers 409): not retried.
        if (now - Date.parse(d.created_at) > AUTO_VERIFY_MS || verifiedElsewhere(ctx, d)) continue;
        if ((await checkDomainDns(ctx, t, d)).ok && domains.findById(ctx.db, d.id)) await markVerified(ctx, t, d);
        else domains.update(ctx.db, d.id, { last_checked_at: nowIso(ctx.now()), updated_at: d.updated_at });
      } else if (d.ssl_status !== "active") {
        await refreshSsl(ctx, d.id);
      }
    } catch (e) {
      ctx.log.warn("domain check failed", { domain: d.domain, error: (e as Error).message });
    }
  }
}

/**
 * Every hour: verified domains are looked up again. One whose DNS no longer points here keeps
 * serving (its owner may be mid-migration) but is flagged `misconfigured` with an event, and
 * clears when fixed; active certificates are probed again (expiry, or gone). Never throws.
 */
export async function reverifyDomains(ctx: DomainCtx): Promise<void> {
  for (const d of domains.listAll(ctx.db)) {
    if (!d.verified) continue;
    try {
      const t = tenants.findById(ctx.db, d.tenant_id);
      if (!t || t.status === "deleting") continue;
      const v = await checkDomainDns(ctx, t, d);
      const fresh = domains.findById(ctx.db, d.id);
      if (!fresh) continue;
      // The TXT token proved ownership once; pointing is what must stay true for the domain to be served.
      if (!v.pointing.ok) flagMisconfigured(ctx, fresh, v);
      else {
        domains.update(ctx.db, d.id, { dns_status: "ok", last_checked_at: nowIso(ctx.now()), updated_at: fresh.updated_at });
        if (fresh.dns_status === "misconfigured")
          ctx.bus.emit({
            tenantId: t.id,
            stage: "domain",
            status: "dns_ok",
            message: `DNS of ${d.domain} points here again`,
            data: { domain: d.domain, domain_id: d.id },
          });
      }
      if (fresh.ssl_status === "active") await refreshSsl(ctx, d.id);
    } catch (e) {
      ctx.log.warn("domain re-verification failed", { domain: d.domain, error: (e as Error).message });
    }
  }
}

/** Starts the jobs; returns a function stopping them. */
export function startDomainJobs(ctx: DomainCtx): () => void {
  const jobs = [
    new Cron("* * * * *", { protect: true, catch: true }, () => checkPendingDomains(ctx)),
    new Cron("17 * * * *", { protect: true, catch: true }, () => reverifyDomains(ctx)),
  ];
  return () => jobs.forEach((j) => j.stop());
}
