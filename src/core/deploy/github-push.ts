// GitHub's push webhook: verify X-Hub-Signature-256 over the raw body (constant time), then deploy the pushed
// commit to every service built from that repo and branch, across the providers linked to the installation.
import { createHmac } from "node:crypto";
import type { Ctx } from "../context.ts";
import * as installations from "../../store/github-installations.ts";
import { Invalid, Unauthorized, Unprocessable } from "../../lib/errors.ts";
import { safeEqual } from "../../lib/crypto.ts";
import { requestDeploy } from "./deployments.ts";
import { parseGitHubRepo } from "../github/source.ts";
import * as previews from "../../store/previews.ts";

export interface WebhookDelivery {
  event: string | null;
  signature: string | null;
  rawBody: string;
}

export type WebhookOutcome =
  | { status: "pong" }
  | { status: "ignored"; reason: string }
  | { status: "deployed"; deployments: Array<{ id: string; tenant_id: string; service: string }> };

/** sha256=<hex HMAC-SHA256 of the raw body>, as GitHub signs deliveries. */
export function signGitHubPayload(secret: string, rawBody: string): string {
  return `sha256=${createHmac("sha256", secret).update(rawBody, "utf8").digest("hex")}`;
}

/** Throws Unauthorized unless `signature` is the body's HMAC with the configured secret. */
export function verifySignature(secret: string, rawBody: string, signature: string | null): void {
  if (!signature || !/^sha256=[0-9a-f]{64}$/i.test(signature))
    throw new Unauthorized("Missing or malformed X-Hub-Signature-256 header");
  if (!safeEqual(signature.toLowerCase(), signGitHubPayload(secret, rawBody)))
    throw new Unauthorized("X-Hub-Signature-256 does not match the payload");
}

/** A delivery signed with this server's webhook secret, or a 422 (no secret set) or 401 (bad signature). */
export function verifyDelivery(ctx: Ctx, d: WebhookDelivery): void {
  const secret = ctx.config.githubWebhookSecret;
  if (!secret)
    throw new Unprocessable(
      "github_not_configured",
      "GitHub webhooks are not configured on this server (STAXA_GITHUB_WEBHOOK_SECRET)",
    );
  verifySignature(secret, d.rawBody, d.signature);
}

/** Handles one delivery. Nothing is read from the payload before its signature checks out. */
export function handleGitHubWebhook(ctx: Ctx, d: WebhookDelivery): WebhookOutcome {
  verifyDelivery(ctx, d);
  if (d.event === "ping") return { status: "pong" };
  if (d.event !== "push")
    return { status: "ignored", reason: `event "${d.event ?? "(none)"}" is not handled; only push deploys` };
  let payload: any;
  try {
    payload = JSON.parse(d.rawBody);
  } catch {
    throw new Invalid("body", "The push payload is not valid JSON");
  }
  return deployPush(ctx, payload);
}

function deployPush(ctx: Ctx, payload: any): WebhookOutcome {
  const ref = typeof payload?.ref === "string" ? payload.ref : "";
  if (!ref.startsWith("refs/heads/")) return { status: "ignored", reason: "not a branch push" };
  const branch = ref.slice("refs/heads/".length);
  const after = typeof payload?.after === "string" ? payload.after.toLowerCase() : "";
  if (payload?.deleted === true || /^0{40}$/.test(after)) return { status: "ignored", reason: "branch deleted" };
  if (!/^[0-9a-f]{40}$/.test(after)) throw new Invalid("after", 'The push payload has no commit id in "after"');
  const installationId = payload?.installation?.id;
  if (!Number.isSafeInteger(installationId)) return { status: "ignored", reason: "the payload names no App installation" };
  const names = new Set<string>();
  for (const v of [payload?.repository?.full_name, payload?.repository?.clone_url, payload?.repository?.html_url]) {
    const full = typeof v === "string" ? (v.includes("://") ? parseGitHubRepo(ctx.config, v)?.fullName : v) : undefined;
    if (full) names.add(full.toLowerCase());
  }
  const deployed: Array<{ id: string; tenant_id: string; service: string }> = [];
  for (const { tenant, service } of installations.gitServicesOf(ctx.db, installationId)) {
    const repo = parseGitHubRepo(ctx.config, service.repo_url);
    if (!repo || !names.has(repo.fullName.toLowerCase()) || service.branch !== branch) continue;
    if (previews.find(ctx.db, tenant.id)) continue; // a preview follows its pull request's events, not pushes to its branch
    const dep = requestDeploy(ctx, tenant, service, { trigger: "push", branch, commitSha: after });
    deployed.push({ id: dep.id, tenant_id: tenant.id, service: service.name });
  }
  if (deployed.length === 0)
    return { status: "ignored", reason: `no tenant deploys ${[...names][0] ?? "this repo"} from branch ${branch}` };
  ctx.log.info("github push deployed", { branch, commit: after, deployments: deployed.map((d) => d.id) });
  return { status: "deployed", deployments: deployed };
}
