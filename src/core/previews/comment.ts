// What a pull request hears about its preview: one comment with the URL once the head commit is deployed (edited on
// later commits), and a failure status when no preview could be made. Best effort: a failure is logged, never fatal.
import type { Ctx } from "../context.ts";
import type { Notification } from "../../events/bus.ts";
import type { TenantRow } from "../../store/tenants.ts";
import type { PreviewRow } from "../../store/previews.ts";
import * as previews from "../../store/previews.ts";
import * as tenants from "../../store/tenants.ts";
import * as deployments from "../../store/deployments.ts";
import * as installations from "../../store/github-installations.ts";
import { githubRequest } from "../github/app.ts";
import { tenantUrl } from "../resources.ts";
import { settingsOf } from "./settings.ts";
import type { PreviewHead } from "./preview-tenant.ts";

/** The commit status context of previews (a base tenant's own deploys report as "staxa"). */
export const PREVIEW_CONTEXT = "staxa/preview";

/** The installation to speak to GitHub with for this provider, if it is linked and active. */
function installationOf(ctx: Ctx, providerId: string): { installationId: number } | undefined {
  const link = installations.find(ctx.db, providerId);
  return link && link.status === "active" && ctx.config.githubAppId ? { installationId: link.installation_id } : undefined;
}

/** The comment's text: the URL, the commit, and when the preview goes away. */
export function commentBody(url: string, p: Pick<PreviewRow, "head_sha">, ttlHours: number): string {
  return [
    `**Staxa preview** of this pull request: ${url}`,
    "",
    `Deployed at ${p.head_sha.slice(0, 12)}. It follows new commits, and is deleted when the pull request closes or after ${ttlHours} h without a new commit.`,
  ].join("\n");
}

/** Subscribes the comment poster to the bus (the composition root does, once); returns the unsubscribe function. */
export function startPreviewReporter(ctx: Ctx): () => void {
  return ctx.bus.onNotification((n) => {
    if (n.event !== "deployment.succeeded") return;
    void commentPreview(ctx, n).catch((e) =>
      ctx.log.warn("github preview comment not posted", { tenant_id: n.tenant_id, error: (e as Error).message }),
    );
  });
}

/** Posts (first time) or edits the preview's comment when the deployment of its current head commit succeeded. */
export async function commentPreview(ctx: Ctx, n: Notification): Promise<void> {
  const p = previews.find(ctx.db, n.tenant_id);
  const t = p ? tenants.findById(ctx.db, n.tenant_id) : undefined;
  const dep = t ? deployments.find(ctx.db, t.id, String(n.data.deployment_id ?? "")) : undefined;
  const auth = t ? installationOf(ctx, t.provider_id) : undefined;
  // Only the deployment of the head commit: other services of the preview (a database) say nothing to the PR.
  if (!p || !t || !dep || dep.commit_sha !== p.head_sha || !auth) return;
  const ttl = settingsOf(ctx, p.base_tenant_id ? previews.findSettings(ctx.db, p.base_tenant_id) : undefined).ttlHours;
  const body = commentBody(tenantUrl(ctx.config, t.name), p, ttl);
  if (p.comment_id) {
    const r = await githubRequest(ctx.config, "PATCH", `/repos/${p.repo}/issues/comments/${p.comment_id}`, auth, { body });
    if (r.status !== 200) throw new Error(`GitHub answered HTTP ${r.status} to editing comment ${p.comment_id}`);
    return;
  }
  if (!previews.claimComment(ctx.db, t.id)) return; // another success is posting it right now
  let id: unknown;
  try {
    const r = await githubRequest(ctx.config, "POST", `/repos/${p.repo}/issues/${p.pr_number}/comments`, auth, { body });
    if (r.status !== 201) throw new Error(`GitHub answered HTTP ${r.status} to the preview comment of #${p.pr_number}`);
    id = r.json?.id;
  } finally {
    previews.setComment(ctx.db, t.id, Number.isSafeInteger(id) ? (id as number) : null);
  }
}

/** A failure status on the PR's head commit saying why no preview was made (the limit). */
export function reportNotDeployed(ctx: Ctx, base: TenantRow, head: PreviewHead, description: string): void {
  const auth = installationOf(ctx, base.provider_id);
  if (!auth) return;
  void githubRequest(ctx.config, "POST", `/repos/${head.repo}/statuses/${head.headSha}`, auth, {
    state: "failure",
    description: description.slice(0, 140),
    context: PREVIEW_CONTEXT,
  })
    .then((r) => {
      if (r.status !== 201) throw new Error(`GitHub answered HTTP ${r.status}`);
    })
    .catch((e) => ctx.log.warn("github preview status not reported", { tenant_id: base.id, error: (e as Error).message }));
}
