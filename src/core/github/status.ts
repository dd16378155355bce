// Commit statuses back to GitHub: pending when a deployment of a GitHub-sourced service starts, success or
// failure when it ends, linking to the tenant. Reporting is best effort: a failure is logged, never fails a deploy.
import type { Ctx } from "../context.ts";
import type { Notification } from "../../events/bus.ts";
import * as deployments from "../../store/deployments.ts";
import * as services from "../../store/services.ts";
import * as tenants from "../../store/tenants.ts";
import * as installations from "../../store/github-installations.ts";
import * as previews from "../../store/previews.ts";
import { githubRequest } from "./app.ts";
import { parseGitHubRepo, type GitHubRepo } from "./source.ts";
import { tenantUrl } from "../resources.ts";

const STATES = { "deployment.started": "pending", "deployment.succeeded": "success", "deployment.failed": "failure" } as const;
const DESCRIPTIONS = {
  pending: "Deploying on Staxa",
  success: "Deployed on Staxa",
  failure: "Deployment failed on Staxa",
} as const;

/** Subscribes the reporter to the bus (the composition root does, once); returns the unsubscribe function. */
export function startGitHubStatusReporter(ctx: Ctx): () => void {
  // The sha a deployment reported as pending, so a failure before the clone still closes that status.
  const pendingSha = new Map<string, string>();
  const off = ctx.bus.onNotification((n) => {
    if (!(n.event in STATES)) return;
    void reportStatus(ctx, n, pendingSha).catch((e) =>
      ctx.log.warn("github commit status not reported", { tenant_id: n.tenant_id, event: n.event, error: (e as Error).message }),
    );
  });
  return off;
}

/** Posts the status of one deployment notification; resolves quietly when the deployment is not GitHub's. */
export async function reportStatus(ctx: Ctx, n: Notification, pendingSha = new Map<string, string>()): Promise<void> {
  const state = STATES[n.event as keyof typeof STATES];
  const depId = String(n.data.deployment_id ?? "");
  const tenant = tenants.findById(ctx.db, n.tenant_id);
  const dep = tenant ? deployments.find(ctx.db, tenant.id, depId) : undefined;
  const service = dep ? services.findById(ctx.db, dep.service_id) : undefined;
  const own = service?.source_type === "github" ? parseGitHubRepo(ctx.config, service.repo_url) : undefined;
  // A pull request preview reports on the PR's base repo (a fork's head commit is reachable there too).
  const preview = own && tenant ? previews.find(ctx.db, tenant.id) : undefined;
  const prRepo = preview && [preview.repo, preview.head_repo].some((r) => r.toLowerCase() === own!.fullName.toLowerCase());
  const repo = prRepo ? { ...own!, owner: preview!.repo.split("/")[0]!, repo: preview!.repo.split("/")[1]! } : own;
  const link = tenant ? installations.find(ctx.db, tenant.provider_id) : undefined;
  if (!tenant || !dep || !repo || !link || link.status !== "active" || !ctx.config.githubAppId) return;
  const auth = { installationId: link.installation_id };
  let sha = dep.commit_sha ?? dep.requested_sha ?? pendingSha.get(dep.id);
  if (!sha && dep.branch) sha = await branchHead(ctx, repo, dep.branch, auth);
  if (!sha || !/^[0-9a-f]{40}$/i.test(sha)) return;
  if (state === "pending") pendingSha.set(dep.id, sha);
  else pendingSha.delete(dep.id);
  const r = await githubRequest(ctx.config, "POST", `/repos/${repo.owner}/${repo.repo}/statuses/${sha}`, auth, {
    state,
    target_url: tenantUrl(ctx.config, tenant.name),
    description: DESCRIPTIONS[state],
    context: preview ? "staxa/preview" : "staxa",
  });
  if (r.status !== 201) throw new Error(`GitHub answered HTTP ${r.status} to the ${state} status of ${dep.id}`);
}

/** The commit a branch points at now: the deployment has not cloned yet when it starts. */
async function branchHead(
  ctx: Ctx,
  repo: GitHubRepo,
  branch: string,
  auth: { installationId: number },
): Promise<string | undefined> {
  const r = await githubRequest(
    ctx.config,
    "GET",
    `/repos/${repo.owner}/${repo.repo}/branches/${encodeURIComponent(branch)}`,
    auth,
  );
  return r.status === 200 && typeof r.json?.commit?.sha === "string" ? r.json.commit.sha : undefined;
}
