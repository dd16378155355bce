// Tenants: create (validate, record, queue the first deployments), list, get, update with its effect, delete.
import type { Ctx } from "../context.ts";
import type { Principal } from "../identity/principal.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import * as deployments from "../../store/deployments.ts";
import type { TenantRow } from "../../store/tenants.ts";
import type { ServiceRow } from "../../store/services.ts";
import { newId, nowIso } from "../../lib/ids.ts";
import { Conflict, Invalid, Unprocessable } from "../../lib/errors.ts";
import * as input from "../input.ts";
import { parseService, parseServices, type ServiceDraft } from "./service-input.ts";
import { maskedList, openEnv, sealEnv, validateEnv } from "../env-vars.ts";
import { volumeView } from "../deploy/volumes.ts";
import { assertDeployable, deploymentView, redeployCurrent, requestDeploy } from "../deploy/deployments.ts";
import { eventsUrl, serviceHost, tenantUrl } from "../resources.ts";
import { startTenantDeletion } from "../deploy/cleanup.ts";
import { deployGroup } from "../deploy/group.ts";
import { assertHostsFree } from "./services.ts";
import { composeServices, composeSource } from "./compose.ts";
import { applyTenantEgress } from "../network/enforcement.ts";
import { tenantSubnet } from "../network/subnets.ts";
import { domainUrl, domainView, primaryDomainUrl } from "../domains/domains.ts";
import * as domainStore from "../../store/domains.ts";
import * as previewStore from "../../store/previews.ts";
import { runningReplicas } from "../deploy/replicas.ts";

type Body = Record<string, unknown>;

/** The full view (GET /tenants/{id}, and the 202 of create). */
export function tenantView(ctx: Ctx, t: TenantRow) {
  const svcs = services.list(ctx.db, t.id);
  return {
    id: t.id,
    name: t.name,
    display_name: t.display_name,
    status: t.status,
    status_reason: t.status_reason,
    url: primaryDomainUrl(ctx, t.id) ?? tenantUrl(ctx.config, t.name),
    events_url: eventsUrl(t.id),
    mode: t.mode,
    source_type: t.source_type,
    repo_url: t.repo_url,
    branch: t.branch,
    image_url: t.image_url,
    resource_size: t.resource_size,
    app_port: t.app_port,
    egress_mode: t.egress_mode,
    services: svcs.map((s) => serviceView(ctx, t, s)),
    domains: domainStore.list(ctx.db, t.id).map((d) => domainView(ctx, t, d)),
    deployments: deployments.list(ctx.db, t.id, { limit: 5, offset: 0 }).rows.map(deploymentView),
    preview: previewMark(ctx, t.id),
    created_at: t.created_at,
    updated_at: t.updated_at,
  };
}

export function serviceView(ctx: Ctx, t: TenantRow, s: ServiceRow) {
  return {
    id: s.id,
    name: s.name,
    source_type: s.source_type,
    repo_url: s.repo_url,
    branch: s.branch,
    image_url: s.image_url,
    status: s.status,
    is_primary: !!s.is_primary,
    is_routable: !!s.is_routable,
    port: s.port,
    resource_size: s.resource_size,
    host: s.is_routable ? serviceHost(ctx.config, t.name, s) : null,
    current_deployment_id: s.current_deployment_id,
    priority: s.priority,
    depends_on: JSON.parse(s.depends_on || "[]"),
    volumes: volumeView(t.name, s),
    healthcheck: s.healthcheck ? JSON.parse(s.healthcheck) : null,
    build_context: s.build_context ?? null,
    // per-service overrides, masked like the tenant env: a secret never leaves the store in clear
    env: maskedList(openEnv(ctx.box, s.env_enc)),
    replicas: s.replicas,
    replicas_running: runningReplicas(ctx, s),
  };
}

/** The short view of lists: a page of tenants, their primary domains and preview marks read in one query each, not one per row. */
export function tenantSummaries(ctx: Ctx, rows: TenantRow[]) {
  const ids = rows.map((t) => t.id);
  const primary = new Map(domainStore.primaryVerified(ctx.db, ids).map((d) => [d.tenant_id, d]));
  const previews = new Map(previewStore.findMany(ctx.db, ids).map((p) => [p.tenant_id, p]));
  return rows.map((t) => {
    const d = primary.get(t.id);
    const p = previews.get(t.id);
    return {
      id: t.id,
      name: t.name,
      display_name: t.display_name,
      status: t.status,
      status_reason: t.status_reason,
      url: d ? domainUrl(ctx, d.domain) : tenantUrl(ctx.config, t.name),
      source_type: t.source_type,
      preview: previewView(p),
      created_at: t.created_at,
      updated_at: t.updated_at,
    };
  });
}

/** Set on a pull request preview (lists mark them): its base tenant, repo and pull request number; null otherwise. */
function previewMark(ctx: Ctx, tenantId: string) {
  return previewView(previewStore.find(ctx.db, tenantId));
}

function previewView(p: previewStore.PreviewRow | undefined) {
  return p ? { base_tenant_id: p.base_tenant_id, repo: p.repo, pr_number: p.pr_number } : null;
}

/** Validates everything first (400), then the name (409), then the limit (422); writes all in one transaction. */
export function createTenant(ctx: Ctx, p: Principal, b: Body): TenantRow {
  const name = input.tenantName(b.name);
  const displayName = b.display_name === undefined ? null : input.displayName(b.display_name);
  const hasSource = b.source_type !== undefined;
  const hasServices = b.services !== undefined;
  const hasCompose = b.compose !== undefined;
  const given = [hasSource && "source_type", hasServices && "services", hasCompose && "compose"].filter((g): g is string => !!g);
  if (given.length !== 1)
    throw new Invalid(
      given[1] ?? "source_type",
      "Provide exactly one of source_type (single service), services[] or compose (multi-service)",
    );
  const size = b.resource_size === undefined ? "small" : input.resourceSize(b.resource_size);
  const egress = b.egress_mode === undefined ? "open" : input.egressMode(b.egress_mode);
  const env = b.env === undefined ? {} : validateEnv(b.env, "env");
  let drafts: ServiceDraft[];
  let notes: string[] = [];
  if (hasSource) {
    const d = parseService(ctx.config, b, {
      tenant: name,
      name: "web",
      prefix: "",
      portField: "app_port",
      defaults: { routable: true, primary: true, size },
    });
    d.row.is_primary = 1;
    d.row.is_routable = 1;
    d.env = {}; // single-service mode: `env` is the tenant's (one copy), or PUT/PATCH could never remove a key
    drafts = [d];
  } else if (hasCompose) {
    const c = composeServices(b.compose, composeSource(ctx.config, b));
    drafts = parseServices(ctx.config, c.services, name, size, (i) => `compose.services.${c.names[i]}.`);
    notes = c.notes;
  } else drafts = parseServices(ctx.config, b.services, name, size);

  if (tenants.findByName(ctx.db, name))
    throw new Conflict(`Tenant name "${name}" is already taken`, { field: "name" }, "name_taken");
  assertHostsFree(
    ctx,
    name,
    drafts.map((d) => d.row),
    true,
  );
  const limit = p.mode === "test" ? ctx.config.testTenantLimit : ctx.config.tenantLimit;
  if (tenants.count(ctx.db, p) >= limit)
    throw new Unprocessable("tenant_limit_reached", `Tenant limit of ${limit} reached for this provider (${p.mode} mode)`, {
      limit,
    });

  const now = nowIso();
  const first = drafts[0].row;
  const row: tenants.TenantRow = {
    id: newId("ten"),
    provider_id: p.providerId,
    mode: p.mode,
    name,
    display_name: displayName,
    status: "provisioning",
    status_reason: null,
    source_type: hasSource ? first.source_type : null,
    repo_url: hasSource ? first.repo_url : null,
    branch: hasSource ? first.branch : "main",
    image_url: hasSource ? first.image_url : null,
    resource_size: size,
    app_port: hasSource ? first.port : null,
    egress_mode: egress,
    env_enc: sealEnv(ctx.box, env),
    template_id: null,
    created_at: now,
    updated_at: now,
  };
  const svcRows: ServiceRow[] = drafts.map((d) => ({
    ...d.row,
    tenant_id: row.id,
    env_enc: sealEnv(ctx.box, d.env),
    created_at: now,
    updated_at: now,
  }));
  try {
    ctx.db.transaction(() => {
      tenants.insert(ctx.db, row);
      tenantSubnet(ctx, row.id); // its network's subnet: an exhausted pool is a 422 before anything is stored
      for (const s of svcRows) services.insert(ctx.db, s);
      deployGroup(ctx, row, svcRows, { trigger: "create" }); // dependencies first, each healthy before the next
    })();
  } catch (e) {
    // two creates racing for one name: the UNIQUE index decides, the loser gets the same 409.
    if (String((e as Error).message).includes("UNIQUE"))
      throw new Conflict(`Tenant name "${name}" is already taken`, { field: "name" }, "name_taken");
    throw e;
  }
  for (const n of notes) ctx.bus.emit({ tenantId: row.id, stage: "info", status: "done", message: `compose: ${n}` });
  return row;
}

export function listTenants(
  ctx: Ctx,
  p: Principal,
  q: { status?: string; search?: string; sort?: string; limit: number; offset: number },
) {
  const sortRaw = q.sort ?? "-created_at";
  const desc = sortRaw.startsWith("-");
  const sort = sortRaw.replace(/^-/, "");
  if (sort !== "created_at" && sort !== "name")
    throw new Invalid("sort", "sort must be created_at or name, optionally prefixed with '-' for descending");
  const statuses = ["provisioning", "deploying", "ready", "degraded", "failed", "deleting"];
  if (q.status !== undefined && !statuses.includes(q.status))
    throw new Invalid("status", `status must be one of: ${statuses.join(", ")}`);
  if (q.search !== undefined && q.search.length > 63) throw new Invalid("search", "search must be at most 63 characters");
  return tenants.list(ctx.db, p, { status: q.status, search: q.search, sort, desc, limit: q.limit, offset: q.offset });
}

export function getTenant(ctx: Ctx, p: Principal, id: string): TenantRow {
  return tenants.get(ctx.db, p, id);
}

export type UpdateEffect = "none" | "redeploy" | "rebuild";

/**
 * PATCH: display_name applies at once, egress_mode too (the firewall only, no redeploy); resource_size and
 * app_port restart the app with its current image (no build); branch rebuilds from the new branch, repo_url (an
 * extension: the reference lists no repository field and forbids none) from the new repository, checked as at create.
 */
export function updateTenant(
  ctx: Ctx,
  p: Principal,
  id: string,
  b: Body,
): { tenant: TenantRow; effect: UpdateEffect; deploymentId: string | null } {
  const t = tenants.get(ctx.db, p, id);
  const fields: Parameters<typeof tenants.update>[2] = { updated_at: nowIso() };
  if (b.display_name !== undefined) fields.display_name = input.displayName(b.display_name);
  if (b.branch !== undefined) fields.branch = input.branch(b.branch);
  if (b.repo_url !== undefined) fields.repo_url = input.repoUrl(b.repo_url, ctx.config);
  if (b.resource_size !== undefined) fields.resource_size = input.resourceSize(b.resource_size);
  if (b.app_port !== undefined) fields.app_port = input.port(b.app_port);
  if (b.egress_mode !== undefined) fields.egress_mode = input.egressMode(b.egress_mode);
  const svc = services.primary(ctx.db, t.id);
  if (fields.branch !== undefined && svc?.source_type !== "github")
    throw new Invalid("branch", "branch applies only to git-sourced tenants");
  if (fields.repo_url !== undefined && svc?.source_type !== "github")
    throw new Invalid("repo_url", "repo_url applies only to git-sourced tenants");
  const changed = (k: keyof TenantRow) =>
    fields[k as keyof typeof fields] !== undefined && fields[k as keyof typeof fields] !== t[k];
  const rebuild = changed("branch") || changed("repo_url");
  const restart = changed("resource_size") || changed("app_port");
  if ((rebuild || restart) && t.status === "deleting") assertDeployable(t);
  let deploymentId: string | null = null;
  ctx.db.transaction(() => {
    tenants.update(ctx.db, t.id, fields);
    if (svc && (rebuild || restart)) {
      services.update(ctx.db, svc.id, {
        branch: fields.branch ?? svc.branch,
        repo_url: fields.repo_url ?? svc.repo_url,
        resource_size: fields.resource_size ?? svc.resource_size,
        port: fields.app_port ?? svc.port,
        updated_at: fields.updated_at,
      });
    }
  })();
  const fresh = tenants.get(ctx.db, p, t.id);
  if (changed("egress_mode")) void applyTenantEgress(ctx, t.id); // the firewall follows at once: no redeploy needed
  if (svc && (rebuild || restart)) {
    const s = services.findById(ctx.db, svc.id)!;
    deploymentId = (rebuild ? requestDeploy(ctx, fresh, s, { trigger: "config" }) : redeployCurrent(ctx, fresh, s, "config")).id;
  }
  return { tenant: tenants.get(ctx.db, p, t.id), effect: rebuild ? "rebuild" : restart ? "redeploy" : "none", deploymentId };
}

/** DELETE: status `deleting` now, resources removed in the background, then the row (and the name) goes. */
export function deleteTenant(ctx: Ctx, p: Principal, id: string): TenantRow {
  const t = tenants.get(ctx.db, p, id);
  startTenantDeletion(ctx, t);
  return tenants.get(ctx.db, p, id);
}
