// The provider's GitHub App installation: register (checked against GitHub), get, delete; its repos and branches.
import type { Ctx } from "../context.ts";
import type { Principal } from "../identity/principal.ts";
import * as installations from "../../store/github-installations.ts";
import type { InstallationRow } from "../../store/github-installations.ts";
import { Conflict, Invalid, NotFound, Unprocessable, Upstream } from "../../lib/errors.ts";
import { nowIso } from "../../lib/ids.ts";
import { forgetInstallationToken, githubRequest } from "./app.ts";
import { OWNER_RE, REPO_RE } from "./source.ts";

const MAX_PAGES = 10;

export function installationView(r: InstallationRow) {
  return { installation_id: r.installation_id, account: r.account, status: r.status, created_at: r.created_at };
}

/**
 * The provider's installation. None is a 404 whose details say whether the GitHub App is configured on this
 * server (`app_configured`), so a client can tell "register one" from "an administrator must set the App up".
 */
export function getInstallation(ctx: Ctx, p: Principal): InstallationRow {
  const row = installations.find(ctx.db, p.providerId);
  if (row) return row;
  const e = new NotFound("GitHub installation");
  e.details.app_configured = !!(ctx.config.githubAppId && ctx.config.githubPrivateKeyFile);
  throw e;
}

/** installation_id must be a positive integer: "123", -1, 1.5 are refused before GitHub is asked. */
export function installationId(v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1)
    throw new Invalid("installation_id", "installation_id must be a positive integer");
  return v;
}

/** Links an installation after GitHub confirms it exists for this App; stores the account login. */
export async function registerInstallation(
  ctx: Ctx,
  p: Principal,
  body: { installation_id?: unknown },
): Promise<InstallationRow> {
  const id = installationId(body.installation_id);
  const holder = installations.findByInstallationId(ctx.db, id);
  // One installation, one provider: otherwise anyone who learns an id could clone its private repos.
  if (holder && holder.provider_id !== p.providerId)
    throw new Conflict("This GitHub installation is linked to another account", { field: "installation_id" });
  const r = await githubRequest(ctx.config, "GET", `/app/installations/${id}`, { jwt: true });
  if (r.status === 404)
    throw new Unprocessable(
      "installation_not_found",
      `GitHub has no installation ${id} of this App; install the App, then register the id from the callback`,
      { field: "installation_id" },
    );
  if (r.status !== 200) throw new Upstream("github", `checking installation ${id} failed (HTTP ${r.status})`);
  const login = r.json?.account?.login;
  if (typeof login !== "string" || !login) throw new Upstream("github", "the installation has no account login");
  const row: InstallationRow = {
    provider_id: p.providerId,
    installation_id: id,
    account: login,
    status: r.json?.suspended_at ? "suspended" : "active",
    created_at: nowIso(),
  };
  installations.upsert(ctx.db, row);
  return row;
}

export function deleteInstallation(ctx: Ctx, p: Principal): void {
  const row = installations.get(ctx.db, p.providerId);
  installations.remove(ctx.db, p.providerId);
  forgetInstallationToken(ctx.config, row.installation_id);
}

function failed(what: string, status: number): never {
  if (status === 401 || status === 403)
    throw new Unprocessable(
      "github_access_denied",
      `GitHub refused access while ${what} (HTTP ${status}); check the App's installation and permissions`,
    );
  throw new Upstream("github", `${what} failed (HTTP ${status})`);
}

/** Repositories the installation can access (GET /installation/repositories, every page up to 1,000). */
export async function listRepos(ctx: Ctx, p: Principal) {
  const link = installations.get(ctx.db, p.providerId);
  const out: Array<{ full_name: string; private: boolean; default_branch: string; language: string | null }> = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const r = await githubRequest(ctx.config, "GET", `/installation/repositories?per_page=100&page=${page}`, {
      installationId: link.installation_id,
    });
    if (r.status !== 200) failed("listing repositories", r.status);
    const repos = Array.isArray(r.json?.repositories) ? r.json.repositories : [];
    for (const x of repos)
      out.push({
        full_name: String(x.full_name),
        private: !!x.private,
        default_branch: String(x.default_branch ?? "main"),
        language: x.language ?? null,
      });
    if (repos.length < 100 || out.length >= (r.json?.total_count ?? 0)) break;
  }
  return out;
}

/** owner and repo as GitHub names: anything else (`..`, slashes, %2F) is a 400 naming the field. */
export function repoPath(owner: unknown, repo: unknown): { owner: string; repo: string } {
  if (typeof owner !== "string" || !OWNER_RE.test(owner))
    throw new Invalid("owner", "owner must be a GitHub user or organization name");
  if (typeof repo !== "string" || !REPO_RE.test(repo))
    throw new Invalid("repo", "repo must be a GitHub repository name (letters, digits, '.', '_', '-'; not '.' or '..')");
  return { owner, repo };
}

/** Branches of one repository of the installation. */
export async function listBranches(ctx: Ctx, p: Principal, ownerRaw: unknown, repoRaw: unknown) {
  const { owner, repo } = repoPath(ownerRaw, repoRaw);
  const link = installations.get(ctx.db, p.providerId);
  const out: Array<{ name: string; protected: boolean }> = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const r = await githubRequest(ctx.config, "GET", `/repos/${owner}/${repo}/branches?per_page=100&page=${page}`, {
      installationId: link.installation_id,
    });
    if (r.status === 404) throw new NotFound("Repository");
    if (r.status !== 200) failed("listing branches", r.status);
    const rows = Array.isArray(r.json) ? r.json : [];
    for (const b of rows) out.push({ name: String(b.name), protected: !!b.protected });
    if (rows.length < 100) break;
  }
  return out;
}
