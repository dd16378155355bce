// Which repo URLs are GitHub repos of this server's App, and how the pipeline clones them (installation token).
import type { Config } from "../../config.ts";
import type { Ctx } from "../context.ts";
import type { TenantRow } from "../../store/tenants.ts";
import * as installations from "../../store/github-installations.ts";
import { installationToken } from "./app.ts";
import { templateCloneUrl } from "../template-source.ts";

/** GitHub's owner and repo name grammars (owners: alphanumerics and single hyphens; repos: [A-Za-z0-9._-]). */
export const OWNER_RE = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
export const REPO_RE = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/;

export interface GitHubRepo {
  owner: string;
  repo: string;
  /** owner/repo as GitHub spells full_name, compared case-insensitively. */
  fullName: string;
}

/** The web host of the configured GitHub: STAXA_GITHUB_WEB_URL's, else github.com for api.github.com, else the API's host (GitHub Enterprise: …/api/v3). */
export function githubWebHost(config: Pick<Config, "githubApiUrl" | "githubWebUrl">): string {
  if (config.githubWebUrl) return new URL(config.githubWebUrl).host.toLowerCase();
  const host = new URL(config.githubApiUrl).host.toLowerCase();
  return host === "api.github.com" ? "github.com" : host.replace(/^api\./, "");
}

/** owner/repo when `repoUrl` is https://<github web host>/<owner>/<repo>[.git][/]; otherwise undefined. */
export function parseGitHubRepo(
  config: Pick<Config, "githubApiUrl" | "githubWebUrl">,
  repoUrl: string | null | undefined,
): GitHubRepo | undefined {
  if (!repoUrl) return undefined;
  let u: URL;
  try {
    u = new URL(repoUrl);
  } catch {
    return undefined;
  }
  if (u.protocol !== "https:" || u.username || u.password || u.search || u.hash || u.host.toLowerCase() !== githubWebHost(config))
    return undefined;
  const m = /^\/([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(u.pathname);
  if (!m || !OWNER_RE.test(m[1]!) || !REPO_RE.test(m[2]!)) return undefined;
  return { owner: m[1]!, repo: m[2]!, fullName: `${m[1]}/${m[2]}` };
}

/** Where git fetches a GitHub repo from: STAXA_GITHUB_GIT_URL when set (tests, mirrors), else the repo URL itself. */
export function cloneUrlOf(config: Pick<Config, "githubGitUrl">, repo: GitHubRepo, repoUrl: string): string {
  return config.githubGitUrl ? `${config.githubGitUrl}/${repo.owner}/${repo.repo}.git` : repoUrl;
}

/**
 * The pipeline's clone hook: a catalog template's URL is fetched from the local repo of the source bundled in this
 * binary (no network); for a repo of the tenant's GitHub installation, the URL to fetch and an installation token
 * (sent by git as a header from the environment, never stored). Other repos pass through.
 */
export async function cloneSourceFor(
  ctx: Ctx,
  tenant: Pick<TenantRow, "provider_id">,
  repoUrl: string,
): Promise<{ repoUrl: string; token?: string }> {
  const template = await templateCloneUrl(ctx.config.dataDir, repoUrl);
  if (template) return { repoUrl: template };
  const repo = parseGitHubRepo(ctx.config, repoUrl);
  if (!repo) return { repoUrl };
  const link = installations.find(ctx.db, tenant.provider_id);
  const url = cloneUrlOf(ctx.config, repo, repoUrl);
  if (!link || link.status !== "active" || !ctx.config.githubAppId) return { repoUrl: url };
  return { repoUrl: url, token: await installationToken(ctx.config, link.installation_id) };
}
