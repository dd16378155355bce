// A preview tenant `<name>-pr-<n>`: the base tenant's services (the PR's repo at its head commit), its env with the
// overrides, the small size, no custom domains, rules or jobs; redeployed on a new head commit; deleted like any tenant.
import type { Ctx } from "../context.ts";
import type { Config } from "../../config.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import * as previews from "../../store/previews.ts";
import type { TenantRow } from "../../store/tenants.ts";
import type { ServiceRow } from "../../store/services.ts";
import { Conflict } from "../../lib/errors.ts";
import { newId, nowIso } from "../../lib/ids.ts";
import { openEnv, sealEnv } from "../env-vars.ts";
import { githubWebHost, parseGitHubRepo } from "../github/source.ts";
import { tenantSubnet } from "../network/subnets.ts";
import { deployGroup } from "../deploy/group.ts";
import { requestDeploy } from "../deploy/deployments.ts";
import { startTenantDeletion } from "../deploy/cleanup.ts";
import { assertHostsFree } from "../tenants/services.ts";
import type { PreviewSettings } from "./settings.ts";

/** The pull request as a preview needs it. */
export interface PreviewHead {
  repo: string;
  number: number;
  headRepo: string;
  headRef: string;
  headSha: string;
}

/** Test-mode-like: every preview service runs at the smallest size, whatever the base runs at. */
export const PREVIEW_SIZE = "small";

/** `<name>-pr-<n>`, the base name shortened so the whole stays one DNS label (63 characters). */
export function previewName(base: string, pr: number): string {
  const suffix = `-pr-${pr}`;
  return `${base.slice(0, 63 - suffix.length).replace(/-+$/, "")}${suffix}`;
}

/**
 * The preview's env: the base's with the overrides applied (null removes). With `onlyPresent` (a service's own
 * env), an override is applied only to keys the service sets, so it wins over the service's value too.
 */
export function previewEnv(
  env: Record<string, string>,
  overrides: Record<string, string | null>,
  onlyPresent = false,
): Record<string, string> {
  const out = { ...env };
  for (const [k, v] of Object.entries(overrides)) {
    if (onlyPresent && !(k in out)) continue;
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** True when the service builds the PR's repo (the base's, or the fork the head commit comes from). */
export function buildsPr(config: Config, s: Pick<ServiceRow, "source_type" | "repo_url">, head: PreviewHead): boolean {
  const repo = s.source_type === "github" ? parseGitHubRepo(config, s.repo_url)?.fullName.toLowerCase() : undefined;
  return !!repo && (repo === head.repo.toLowerCase() || repo === head.headRepo.toLowerCase());
}

/** A copy of a base service for the preview: the PR's head for the PR's repo; fresh state, no container yet. */
export function previewService(
  ctx: Ctx,
  s: ServiceRow,
  tenantId: string,
  head: PreviewHead,
  overrides: PreviewSettings["envOverrides"],
  now: string,
): ServiceRow {
  const pr = buildsPr(ctx.config, s, head);
  const fork = head.headRepo.toLowerCase() !== head.repo.toLowerCase();
  return {
    ...s,
    id: newId("svc"),
    tenant_id: tenantId,
    repo_url: pr && fork ? `https://${githubWebHost(ctx.config)}/${head.headRepo}` : s.repo_url,
    branch: pr ? head.headRef : s.branch,
    commit_sha: pr ? head.headSha : s.commit_sha,
    resource_size: PREVIEW_SIZE,
    env_enc: sealEnv(ctx.box, previewEnv(openEnv(ctx.box, s.env_enc), overrides, true)),
    status: "pending",
    current_deployment_id: null,
    container_id: null,
    container_ip: null,
    live_port: null,
    live_image: null,
    created_at: now,
    updated_at: now,
  };
}

/** Records the preview tenant, its services and its row in one transaction, then deploys them as a group. */
export function createPreview(ctx: Ctx, base: TenantRow, settings: PreviewSettings, head: PreviewHead): TenantRow {
  const name = previewName(base.name, head.number);
  if (tenants.findByName(ctx.db, name))
    throw new Conflict(`Tenant name "${name}" is already taken`, { field: "name" }, "name_taken");
  const now = nowIso(ctx.now());
  const row: TenantRow = {
    ...base,
    id: newId("ten"),
    name,
    display_name: `${base.display_name ?? base.name} · PR #${head.number}`.slice(0, 200),
    status: "provisioning",
    status_reason: null,
    branch: base.source_type === "github" ? head.headRef : base.branch,
    resource_size: PREVIEW_SIZE,
    env_enc: sealEnv(ctx.box, previewEnv(openEnv(ctx.box, base.env_enc), settings.envOverrides)),
    template_id: null,
    created_at: now,
    updated_at: now,
  };
  const svcRows = services.list(ctx.db, base.id).map((s) => previewService(ctx, s, row.id, head, settings.envOverrides, now));
  const primary = svcRows.find((s) => s.is_primary);
  if (primary && base.source_type === "github") row.repo_url = primary.repo_url;
  assertHostsFree(ctx, name, svcRows, true);
  ctx.db.transaction(() => {
    tenants.insert(ctx.db, row);
    tenantSubnet(ctx, row.id);
    for (const s of svcRows) services.insert(ctx.db, s);
    previews.insert(ctx.db, {
      tenant_id: row.id,
      base_tenant_id: base.id,
      repo: head.repo,
      pr_number: head.number,
      head_repo: head.headRepo,
      head_ref: head.headRef,
      head_sha: head.headSha,
      comment_id: null,
      created_at: now,
      updated_at: now,
    });
    deployGroup(ctx, row, svcRows, { trigger: "create" });
  })();
  ctx.bus.emit({ tenantId: row.id, stage: "info", status: "done", message: `Preview of ${head.repo}#${head.number} (${name})` });
  return row;
}

/** A new head commit: the PR's services rebuild at it (the env is refreshed from the base and the overrides first). */
export function redeployPreview(ctx: Ctx, t: TenantRow, settings: PreviewSettings, head: PreviewHead): void {
  const now = nowIso(ctx.now());
  const row = previews.find(ctx.db, t.id);
  const base = row?.base_tenant_id ? tenants.findById(ctx.db, row.base_tenant_id) : undefined;
  const targets = services.list(ctx.db, t.id).filter((s) => buildsPr(ctx.config, s, head));
  ctx.db.transaction(() => {
    if (base)
      tenants.update(ctx.db, t.id, {
        env_enc: sealEnv(ctx.box, previewEnv(openEnv(ctx.box, base.env_enc), settings.envOverrides)),
        updated_at: now,
      });
    for (const s of targets) services.update(ctx.db, s.id, { branch: head.headRef, commit_sha: head.headSha, updated_at: now });
    previews.updateHead(ctx.db, t.id, { head_ref: head.headRef, head_sha: head.headSha, updated_at: now });
  })();
  const fresh = tenants.findById(ctx.db, t.id)!;
  for (const s of targets) {
    const svc = services.findById(ctx.db, s.id)!;
    requestDeploy(ctx, fresh, svc, { trigger: "push", branch: head.headRef, commitSha: head.headSha });
  }
}

/** Containers, network, route, volumes and images go as for any tenant; the preview row goes with the tenant row. */
export function deletePreview(ctx: Ctx, t: TenantRow): void {
  if (t.status !== "deleting") startTenantDeletion(ctx, t);
}
