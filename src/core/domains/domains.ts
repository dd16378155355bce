// Custom domains of a tenant: add (validated; a claim, pending until DNS proves it), list, verify through DNS (then route
// + TLS; the first tenant to verify a name owns it), delete. A claim nobody proved never blocks the one who can prove it.
import type { Ctx } from "../context.ts";
import type { Principal } from "../identity/principal.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import * as domains from "../../store/domains.ts";
import type { TenantRow } from "../../store/tenants.ts";
import type { ServiceRow } from "../../store/services.ts";
import type { DomainRow } from "../../store/domains.ts";
import { newId, nowIso, randomAlnum } from "../../lib/ids.ts";
import { Conflict, Invalid, Unprocessable } from "../../lib/errors.ts";
import { parseDomainName } from "./name.ts";
import { challengeName, checkDns, lookupFor, type DnsCtx, type DnsVerdict } from "./dns-verify.ts";
import { watchProvisioning, type TlsCtx } from "./tls.ts";
import { routeFor } from "./routes.ts";
import { routeId, serviceHost } from "../resources.ts";

type Body = Record<string, unknown>;
export type DomainCtx = DnsCtx & TlsCtx;

/** Custom domains one tenant may hold (each is a route row and a certificate). */
export const DOMAINS_PER_TENANT = 50;

/** The service a domain routes to: the one it names, else the tenant's primary. */
export function targetService(ctx: Ctx, tenantId: string, d: Pick<DomainRow, "service_id">): ServiceRow | undefined {
  return d.service_id ? services.findById(ctx.db, d.service_id) : services.primary(ctx.db, tenantId);
}

/** Where a claim stands: `verified` (this tenant owns the name), `pending`, or `conflicting` (another tenant claims it too). */
export type ClaimStatus = "verified" | "pending" | "conflicting";

/** A claim's status and, when conflicting, whether another tenant has verified the name (then verify answers 409). */
export function claimOf(
  ctx: Ctx,
  d: DomainRow,
): { claim_status: ClaimStatus; conflict: "claimed_elsewhere" | "verified_elsewhere" | null } {
  if (d.verified) return { claim_status: "verified", conflict: null };
  const others = domains.otherClaims(ctx.db, d.domain, d.tenant_id);
  if (others.count === 0) return { claim_status: "pending", conflict: null };
  return { claim_status: "conflicting", conflict: others.verified ? "verified_elsewhere" : "claimed_elsewhere" };
}

/** The API view, with the exact DNS records to create. */
export function domainView(ctx: Ctx, t: TenantRow, d: DomainRow) {
  const svc = targetService(ctx, t.id, d);
  const tenantHost = svc ? serviceHost(ctx.config, t.name, svc) : `${t.name}.${ctx.config.baseDomain}`;
  const ip = ctx.config.publicIp;
  const pointing = { type: ip.includes(":") ? "AAAA" : "A", name: d.domain, value: ip };
  const txt = { type: "TXT", name: challengeName(d.domain), value: d.verification_token };
  return {
    id: d.id,
    domain: d.domain,
    is_primary: !!d.is_primary,
    verified: !!d.verified,
    ...claimOf(ctx, d),
    ssl_status: d.ssl_status,
    dns_status: d.dns_status,
    service_id: d.service_id ? (svc?.name ?? null) : null,
    // Ownership (TXT) and pointing (A/AAAA to server_ip, or a CNAME to the tenant's host) are both required.
    verification: {
      ...txt,
      token: d.verification_token,
      pointing: [pointing, { type: "CNAME", name: d.domain, value: tenantHost }],
    },
    dns_records: [pointing, txt],
    ssl_issuer: d.ssl_issuer,
    ssl_expires_at: d.ssl_expires_at,
    last_checked_at: d.last_checked_at,
    created_at: d.created_at,
    updated_at: d.updated_at,
  };
}

/** The tenant's URL on its primary verified domain, or undefined when it has none. */
export function primaryDomainUrl(ctx: Ctx, tenantId: string): string | undefined {
  const d = domains.listVerified(ctx.db, tenantId).find((x) => x.is_primary);
  return d && domainUrl(ctx, d.domain);
}

/** The public URL of a custom domain: the scheme and, when not the default, the port Caddy listens on. */
export function domainUrl(ctx: Ctx, domain: string): string {
  const https = ctx.config.publicScheme === "https";
  const port = https ? ctx.config.httpsPort : ctx.config.httpPort;
  return `${ctx.config.publicScheme}://${domain}${port === (https ? 443 : 80) ? "" : `:${port}`}`;
}

export function listDomains(ctx: Ctx, p: Principal, tenantId: string) {
  const t = tenants.get(ctx.db, p, tenantId);
  return { tenant: t, domains: domains.list(ctx.db, t.id) };
}

function resolveService(ctx: Ctx, t: TenantRow, raw: unknown): ServiceRow | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== "string" || raw === "" || raw.length > 64)
    throw new Invalid("service_id", "service_id must be the name or id of one of the tenant's services");
  const byId = services.findById(ctx.db, raw);
  const svc = byId?.tenant_id === t.id ? byId : services.find(ctx.db, t.id, raw);
  if (!svc) throw new Invalid("service_id", `The tenant has no service "${raw}"`);
  if (!svc.is_routable) throw new Invalid("service_id", `Service "${svc.name}" is not routable (it serves no HTTP)`);
  return svc;
}

const taken = (name: string) => new Conflict(`Domain "${name}" is already in use`, { field: "domain" }, "domain_taken");

/**
 * Validates everything first (400), then conflicts (409: the name is verified by a tenant, or this tenant
 * claims it already); another tenant's unverified claim does not conflict. The token is random, 32 characters.
 */
export function addDomain(ctx: Ctx, p: Principal, tenantId: string, b: Body): { tenant: TenantRow; domain: DomainRow } {
  const t = tenants.get(ctx.db, p, tenantId);
  const name = parseDomainName(b.domain, ctx.config.baseDomain);
  if (b.is_primary !== undefined && typeof b.is_primary !== "boolean")
    throw new Invalid("is_primary", "is_primary must be a boolean");
  const svc = resolveService(ctx, t, b.service_id);
  if (t.status === "deleting") throw new Unprocessable("tenant_deleting", "The tenant is being deleted");
  if (domains.findVerifiedByName(ctx.db, name) || domains.findClaim(ctx.db, t.id, name)) throw taken(name);
  if (domains.list(ctx.db, t.id).length >= DOMAINS_PER_TENANT)
    throw new Unprocessable("domain_limit_reached", `A tenant may hold at most ${DOMAINS_PER_TENANT} custom domains`, {
      limit: DOMAINS_PER_TENANT,
    });
  const now = nowIso(ctx.now());
  const row: DomainRow = {
    id: newId("dom"),
    tenant_id: t.id,
    service_id: svc?.id ?? null,
    domain: name,
    is_primary: b.is_primary ? 1 : 0,
    verified: 0,
    verification_token: `staxa-verify-${randomAlnum(32)}`,
    dns_status: null,
    ssl_status: "pending",
    ssl_issuer: null,
    ssl_expires_at: null,
    last_checked_at: null,
    created_at: now,
    updated_at: now,
  };
  try {
    ctx.db.transaction(() => {
      domains.insert(ctx.db, row);
      if (row.is_primary) domains.clearPrimary(ctx.db, t.id, row.id, now);
    })();
  } catch (e) {
    // two adds of one name to one tenant racing: the UNIQUE index decides, the loser gets the same 409.
    if (domains.isClaimConflict(e)) throw taken(name);
    throw e;
  }
  return { tenant: t, domain: row };
}

/** Re-points the route of the domain's service so its hosts match the store; a service not yet deployed gets it when it is. */
export async function applyDomainRoute(ctx: Ctx, t: TenantRow, svc: ServiceRow | undefined): Promise<void> {
  if (!svc || !svc.is_routable) return;
  try {
    const current = (await ctx.proxy.listRoutes()).find((r) => r.id === routeId(t.name, svc.name));
    if (current) await ctx.proxy.setRoute(routeFor(ctx, t, svc, current.upstreams ?? current.upstream)); // every replica stays
  } catch (e) {
    // The store already says what to serve; reconciliation re-asserts it within a minute.
    ctx.log.warn("domain route not applied; reconciliation will", {
      tenant: t.name,
      service: svc.name,
      error: (e as Error).message,
    });
  }
}

/** What failed, in one sentence: the record expected and what was found. */
function failureMessage(domain: string, v: DnsVerdict): string {
  const parts = [v.ownership, v.pointing]
    .filter((c) => !c.ok)
    .map(
      (c) =>
        `expected ${c.type} ${c.name} = ${c.expected}, found ${c.found.length ? c.found.join(", ") : (c.error ?? "no such record")}`,
    );
  return `DNS verification failed for ${domain}: ${parts.join("; ")}`;
}

/**
 * Marks a domain verified after a passing check: route it, start TLS provisioning (ssl_status provisioning).
 * 409 domain_taken when another tenant verified the name first (the partial unique index decides a race).
 */
export async function markVerified(ctx: DomainCtx, t: TenantRow, d: DomainRow): Promise<DomainRow> {
  const now = nowIso(ctx.now());
  const https = ctx.config.publicScheme === "https";
  try {
    domains.update(ctx.db, d.id, {
      verified: 1,
      dns_status: "ok",
      ssl_status: https ? "provisioning" : "pending",
      last_checked_at: now,
      updated_at: now,
    });
  } catch (e) {
    if (domains.isClaimConflict(e)) throw taken(d.domain);
    throw e;
  }
  ctx.bus.emit({
    tenantId: t.id,
    stage: "domain",
    status: "verified",
    message: `Domain ${d.domain} verified`,
    data: { domain: d.domain, domain_id: d.id },
  });
  await applyDomainRoute(ctx, t, targetService(ctx, t.id, d));
  if (https) void watchProvisioning(ctx, d.id);
  return domains.findById(ctx.db, d.id)!;
}

/** True when a tenant other than the claim's has verified its name: the claim can no longer win. */
export function verifiedElsewhere(ctx: Ctx, d: DomainRow): boolean {
  const owner = domains.findVerifiedByName(ctx.db, d.domain);
  return !!owner && owner.id !== d.id;
}

/**
 * POST …/verify: checks DNS now; a failure is 422 `dns_verification_failed` naming each record expected and found;
 * 409 `domain_taken` when another tenant verified the name first.
 */
export async function verifyDomain(
  ctx: DomainCtx,
  p: Principal,
  tenantId: string,
  domainId: string,
): Promise<{ tenant: TenantRow; domain: DomainRow }> {
  const t = tenants.get(ctx.db, p, tenantId);
  const d = domains.get(ctx.db, t.id, domainId);
  if (verifiedElsewhere(ctx, d)) throw taken(d.domain);
  const v = await checkDomainDns(ctx, t, d);
  const fresh = domains.find(ctx.db, t.id, d.id);
  if (!fresh) throw new Unprocessable("domain_deleted", "The domain was deleted during verification");
  if (!v.ok) {
    if (fresh.verified && !v.pointing.ok) flagMisconfigured(ctx, fresh, v);
    throw new Unprocessable("dns_verification_failed", failureMessage(d.domain, v), {
      domain: d.domain,
      records: [v.ownership, v.pointing],
    });
  }
  if (fresh.verified) {
    domains.update(ctx.db, d.id, { dns_status: "ok", last_checked_at: nowIso(ctx.now()), updated_at: fresh.updated_at });
    return { tenant: t, domain: domains.findById(ctx.db, d.id)! };
  }
  return { tenant: t, domain: await markVerified(ctx, t, fresh) };
}

/** The DNS check of one domain against this appliance's address and the tenant's host. */
export function checkDomainDns(ctx: DnsCtx, t: TenantRow, d: DomainRow): Promise<DnsVerdict> {
  const svc = targetService(ctx, t.id, d);
  const tenantHost = svc ? serviceHost(ctx.config, t.name, svc) : `${t.name}.${ctx.config.baseDomain}`;
  return checkDns(lookupFor(ctx), { domain: d.domain, token: d.verification_token, serverIp: ctx.config.publicIp, tenantHost });
}

/** A verified domain whose DNS no longer points here keeps serving but is shown as misconfigured (event once). */
export function flagMisconfigured(ctx: Ctx, d: DomainRow, v: DnsVerdict): void {
  const now = nowIso(ctx.now());
  domains.update(ctx.db, d.id, { dns_status: "misconfigured", last_checked_at: now, updated_at: d.updated_at }); // updated_at is the TLS grace clock
  if (d.dns_status === "misconfigured") return;
  ctx.bus.emit({
    tenantId: d.tenant_id,
    stage: "domain",
    status: "misconfigured",
    message: failureMessage(d.domain, v),
    data: { domain: d.domain, domain_id: d.id, records: [v.ownership, v.pointing] },
  });
  ctx.log.warn("domain dns misconfigured", { domain: d.domain });
}

/** DELETE: the row goes, then its service's route is re-pointed without it (no more requests for it are served). */
export async function deleteDomain(ctx: Ctx, p: Principal, tenantId: string, domainId: string): Promise<void> {
  const t = tenants.get(ctx.db, p, tenantId);
  const d = domains.get(ctx.db, t.id, domainId);
  const svc = targetService(ctx, t.id, d);
  domains.remove(ctx.db, d.id);
  if (d.verified) await applyDomainRoute(ctx, t, svc);
  ctx.bus.emit({
    tenantId: t.id,
    stage: "domain",
    status: "deleted",
    message: `Domain ${d.domain} removed`,
    data: { domain: d.domain, domain_id: d.id },
  });
}
