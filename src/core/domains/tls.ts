// Which routes custom domains ride on, and their ssl_status read from what Caddy actually serves (never assumed).
import type { Ctx } from "../context.ts";
import type { ServiceRow } from "../../store/services.ts";
import * as domains from "../../store/domains.ts";
import type { DomainRow, SslStatus } from "../../store/domains.ts";
import { probeTls, type TlsProbe } from "../../proxy/tls-probe.ts";
import { nowIso } from "../../lib/ids.ts";

/** A context that may carry an injected TLS probe (unit tests); the real one handshakes with Caddy. */
export type TlsCtx = Ctx & { tlsProbe?: typeof probeTls };

/** A certificate that has not appeared this long after verification is `failed` (ACME retries stop mattering). */
export const PROVISION_GRACE_MS = 15 * 60_000;

/** Verified domains routed to `service`: those naming it, plus those naming none when it is the primary. */
export function domainHosts(ctx: Ctx, tenantId: string, service: Pick<ServiceRow, "id" | "is_primary">): string[] {
  return domains
    .listVerified(ctx.db, tenantId)
    .filter((d) => (d.service_id ? d.service_id === service.id : !!service.is_primary))
    .map((d) => d.domain);
}

export type CertVerdict = { status: "active"; issuer: string; expiresAt: string } | { status: "absent"; reason: string };

/**
 * Is the served certificate a real one for `domain`? Self-signed ones and, unless Caddy's internal
 * CA is the configured issuer, Caddy's local CA (its fallback) do not count; neither does an expired one.
 */
export function judgeCertificate(probe: TlsProbe, domain: string, acmeCa: string, now: Date): CertVerdict {
  if (!probe.ok) return { status: "absent", reason: probe.reason };
  const covers = probe.altNames.some(
    (n) => n === domain || (n.startsWith("*.") && domain.slice(domain.indexOf(".")) === n.slice(1)),
  );
  if (!covers)
    return {
      status: "absent",
      reason: `served certificate is for ${probe.altNames.join(", ") || probe.subjectCn}, not ${domain}`,
    };
  if (!probe.issuerCn || probe.issuerCn === probe.subjectCn)
    return { status: "absent", reason: "served certificate is self-signed" };
  if (acmeCa !== "internal" && probe.issuerCn.startsWith("Caddy Local Authority"))
    return { status: "absent", reason: "served certificate is Caddy's local fallback, not from the ACME CA" };
  if (probe.notAfter <= now) return { status: "absent", reason: `served certificate expired at ${nowIso(probe.notAfter)}` };
  return { status: "active", issuer: probe.issuerCn, expiresAt: nowIso(probe.notAfter) };
}

/** The next ssl_status from a verdict: active when served; failed when it vanished, or never came within the grace. */
export function nextSslStatus(d: Pick<DomainRow, "ssl_status" | "updated_at">, v: CertVerdict, now: Date): SslStatus {
  if (v.status === "active") return "active";
  if (d.ssl_status === "active") return "failed";
  if (d.ssl_status === "provisioning" && now.getTime() - Date.parse(d.updated_at) > PROVISION_GRACE_MS) return "failed";
  return d.ssl_status;
}

/**
 * Handshakes with Caddy (SNI = the domain) and records what it serves. The first handshake is also
 * what makes Caddy's on-demand TLS obtain the certificate, hence the long timeout. Never throws.
 */
export async function refreshSsl(ctx: TlsCtx, id: string, timeoutMs = 30_000): Promise<DomainRow | undefined> {
  const d = domains.findById(ctx.db, id);
  if (!d || !d.verified || ctx.config.publicScheme !== "https") return d; // no TLS listener at all: ssl stays pending
  const probe = await (ctx.tlsProbe ?? probeTls)({
    host: "127.0.0.1",
    port: ctx.config.httpsPort,
    servername: d.domain,
    timeoutMs,
  });
  const fresh = domains.findById(ctx.db, id);
  if (!fresh || !fresh.verified) return fresh; // deleted or reset while we waited
  const now = ctx.now();
  const v = judgeCertificate(probe, fresh.domain, ctx.config.acmeCa, now);
  const status = nextSslStatus(fresh, v, now);
  const fields = v.status === "active" ? { ssl_issuer: v.issuer, ssl_expires_at: v.expiresAt } : {};
  // updated_at moves only with the status: it marks when provisioning began (the grace clock).
  domains.update(ctx.db, id, {
    ...fields,
    ssl_status: status,
    last_checked_at: nowIso(now),
    updated_at: status === fresh.ssl_status ? fresh.updated_at : nowIso(now),
  });
  if (status !== fresh.ssl_status) {
    const message =
      status === "active"
        ? `Certificate for ${fresh.domain} issued by ${v.status === "active" ? v.issuer : ""}`
        : `No certificate for ${fresh.domain}: ${v.status === "absent" ? v.reason : ""}`;
    ctx.bus.emit({
      tenantId: fresh.tenant_id,
      stage: "domain",
      status: `ssl_${status}`,
      message,
      data: { domain: fresh.domain, domain_id: id },
    });
    ctx.log.info("domain ssl status", { domain: fresh.domain, ssl_status: status });
  }
  return domains.findById(ctx.db, id);
}

const watching = new Set<string>();

/** After verification: probe until the certificate is served or the grace ends (the scheduler keeps checking after). */
export async function watchProvisioning(ctx: TlsCtx, id: string, o: { intervalMs?: number; maxMs?: number } = {}): Promise<void> {
  if (watching.has(id)) return;
  watching.add(id);
  try {
    const deadline = Date.now() + (o.maxMs ?? 3 * 60_000);
    while (Date.now() < deadline) {
      const d = await refreshSsl(ctx, id);
      if (!d || !d.verified || d.ssl_status === "active" || d.ssl_status === "failed" || ctx.config.publicScheme !== "https")
        return;
      await Bun.sleep(o.intervalMs ?? 2000);
    }
  } catch (e) {
    ctx.log.warn("certificate watch failed", { domain_id: id, error: (e as Error).message });
  } finally {
    watching.delete(id);
  }
}
