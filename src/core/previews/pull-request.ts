// GitHub's pull_request webhook: verified like the push webhook, then opened/synchronize/reopened deploy the PR head
// as a preview tenant of every tenant with previews on that deploys the PR's base repo and branch; closed deletes it.
import type { Ctx } from "../context.ts";
import type { TenantRow } from "../../store/tenants.ts";
import * as tenants from "../../store/tenants.ts";
import * as previews from "../../store/previews.ts";
import * as installations from "../../store/github-installations.ts";
import { AppError, Invalid } from "../../lib/errors.ts";
import { verifyDelivery, type WebhookDelivery } from "../deploy/github-push.ts";
import { parseGitHubRepo, OWNER_RE, REPO_RE } from "../github/source.ts";
import * as input from "../input.ts";
import { settingsOf, type PreviewSettings } from "./settings.ts";
import { createPreview, deletePreview, redeployPreview } from "./preview-tenant.ts";
import { reportNotDeployed } from "./comment.ts";

export interface PullRequestEvent {
  action: string;
  number: number;
  installationId: number | undefined;
  /** owner/repo of the base. */
  repo: string;
  baseRef: string;
  /** owner/repo of the head; null when the fork was deleted. */
  headRepo: string | null;
  headRef: string;
  headSha: string;
  fork: boolean;
}

export type PreviewResult = {
  base_tenant_id: string;
  action: "created" | "updated" | "unchanged" | "deleted" | "skipped";
  tenant_id?: string;
  name?: string;
  reason?: string;
};

export type PullRequestOutcome = { status: "ignored"; reason: string } | { status: "previews"; previews: PreviewResult[] };

const DEPLOYS = new Set(["opened", "synchronize", "reopened"]);

const fullName = (v: unknown, field: string): string => {
  const [owner, repo, ...rest] = typeof v === "string" ? v.split("/") : [];
  if (!owner || !repo || rest.length || !OWNER_RE.test(owner) || !REPO_RE.test(repo))
    throw new Invalid(field, `${field} must be a GitHub owner/repo name`);
  return `${owner}/${repo}`;
};

/** The fields a preview needs, each checked (a malformed one is a 400 naming it); nothing else is read. */
export function parsePullRequest(payload: any): PullRequestEvent {
  const pr = payload?.pull_request;
  if (!pr || typeof pr !== "object") throw new Invalid("pull_request", "The payload has no pull_request object");
  const number = payload?.number ?? pr.number;
  if (!Number.isSafeInteger(number) || number < 1) throw new Invalid("number", "number must be the pull request's number");
  const action = typeof payload?.action === "string" ? payload.action : "";
  const repo = fullName(pr.base?.repo?.full_name ?? payload?.repository?.full_name, "pull_request.base.repo.full_name");
  const headRepo = pr.head?.repo ? fullName(pr.head.repo.full_name, "pull_request.head.repo.full_name") : null;
  const headSha = typeof pr.head?.sha === "string" ? pr.head.sha.toLowerCase() : "";
  if (!/^[0-9a-f]{40}$/.test(headSha)) throw new Invalid("pull_request.head.sha", "pull_request.head.sha must be a commit id");
  const installationId = Number.isSafeInteger(payload?.installation?.id) ? (payload.installation.id as number) : undefined;
  return {
    action,
    number,
    installationId,
    repo,
    baseRef: input.branch(pr.base?.ref, "pull_request.base.ref"),
    headRepo,
    headRef: input.branch(pr.head?.ref, "pull_request.head.ref"),
    headSha,
    fork: headRepo === null || headRepo.toLowerCase() !== repo.toLowerCase(),
  };
}

/** Tenants of the installation's providers that deploy the PR's base repo and branch (previews themselves excluded). */
function baseTenants(ctx: Ctx, pr: PullRequestEvent & { installationId: number }): TenantRow[] {
  const out = new Map<string, TenantRow>();
  for (const { tenant, service } of installations.gitServicesOf(ctx.db, pr.installationId)) {
    const repo = parseGitHubRepo(ctx.config, service.repo_url);
    if (!repo || repo.fullName.toLowerCase() !== pr.repo.toLowerCase() || service.branch !== pr.baseRef) continue;
    if (!previews.find(ctx.db, tenant.id)) out.set(tenant.id, tenant);
  }
  return [...out.values()];
}

/** Handles one delivery of the pull_request event. Nothing is read from the payload before its signature checks out. */
export function handlePullRequestWebhook(ctx: Ctx, d: WebhookDelivery): PullRequestOutcome {
  verifyDelivery(ctx, d);
  let payload: unknown;
  try {
    payload = JSON.parse(d.rawBody);
  } catch {
    throw new Invalid("body", "The pull_request payload is not valid JSON");
  }
  const pr = parsePullRequest(payload);
  if (!DEPLOYS.has(pr.action) && pr.action !== "closed")
    return { status: "ignored", reason: `pull_request action "${pr.action}" changes no preview` };
  if (pr.installationId === undefined) return { status: "ignored", reason: "the payload names no App installation" };
  const withId = { ...pr, installationId: pr.installationId };
  const results: PreviewResult[] = [];
  for (const base of baseTenants(ctx, withId)) {
    const settings = settingsOf(ctx, previews.findSettings(ctx.db, base.id));
    // Closing deletes a preview even when previews were switched off after it was made.
    if (pr.action === "closed") results.push(close(ctx, base, pr));
    else if (settings.enabled) results.push(open(ctx, base, settings, pr));
  }
  if (results.length === 0)
    return { status: "ignored", reason: `no tenant with previews on deploys ${pr.repo} from branch ${pr.baseRef}` };
  ctx.log.info("github pull_request handled", { pr: pr.number, action: pr.action, previews: results.map((r) => r.action) });
  return { status: "previews", previews: results };
}

function close(ctx: Ctx, base: TenantRow, pr: PullRequestEvent): PreviewResult {
  const row = previews.findByPr(ctx.db, base.id, pr.number);
  const t = row ? tenants.findById(ctx.db, row.tenant_id) : undefined;
  if (!t) return { base_tenant_id: base.id, action: "skipped", reason: "no preview of this pull request" };
  deletePreview(ctx, t);
  return { base_tenant_id: base.id, action: "deleted", tenant_id: t.id, name: t.name };
}

function open(ctx: Ctx, base: TenantRow, settings: PreviewSettings, pr: PullRequestEvent): PreviewResult {
  const skipped = (reason: string): PreviewResult => ({ base_tenant_id: base.id, action: "skipped", reason });
  // A fork's code runs with the tenant's env (its secrets): only when the tenant allowed it.
  if (pr.fork && !settings.allowForks) return skipped("pull request from a fork: previews of forks are off (allow_forks)");
  if (!pr.headRepo) return skipped("the pull request's head repository was deleted");
  const head = { repo: pr.repo, number: pr.number, headRepo: pr.headRepo, headRef: pr.headRef, headSha: pr.headSha };
  const row = previews.findByPr(ctx.db, base.id, pr.number);
  const existing = row ? tenants.findById(ctx.db, row.tenant_id) : undefined;
  if (row && existing && existing.status !== "deleting") {
    if (row.head_sha === pr.headSha && pr.action !== "reopened")
      return { base_tenant_id: base.id, action: "unchanged", tenant_id: existing.id, name: existing.name };
    redeployPreview(ctx, existing, settings, head);
    return { base_tenant_id: base.id, action: "updated", tenant_id: existing.id, name: existing.name };
  }
  if (existing) return skipped("the previous preview of this pull request is still being deleted");
  if (previews.countActive(ctx.db, { providerId: base.provider_id, mode: base.mode }) >= ctx.config.previewLimit) {
    const reason = `preview limit of ${ctx.config.previewLimit} reached (STAXA_PREVIEW_LIMIT)`;
    reportNotDeployed(ctx, base, head, `Preview not deployed: ${reason}`);
    return skipped(reason);
  }
  try {
    const t = createPreview(ctx, base, settings, head);
    return { base_tenant_id: base.id, action: "created", tenant_id: t.id, name: t.name };
  } catch (e) {
    // A taken name or an exhausted subnet pool: this base is skipped, the others still get theirs.
    if (!(e instanceof AppError) || e instanceof Invalid) throw e;
    return skipped(e.message);
  }
}
