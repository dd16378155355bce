// HTTP routes of /api/v1 for: the GitHub App (installation, repos, branches) and GitHub's push webhook.
import { Elysia, t } from "elysia";
import type { ApiDeps } from "./deps.ts";
import { auth } from "./plugins/auth.ts";
import { all, one } from "./plugins/envelope.ts";
import * as core from "../core/github/installation.ts";
import { handleGitHubWebhook } from "../core/deploy/github-push.ts";
import { handlePullRequestWebhook } from "../core/previews/pull-request.ts";
import { Invalid } from "../lib/errors.ts";
import { DOCUMENTED_AS, strictBody } from "./body.ts";
import { jsonBody, rawBody } from "./plugins/json-body.ts";

const tags = ["GitHub App"];

export const githubModels = {
  // Checked in core, not by `t.Integer`: Elysia would coerce "123" to 123, and a string id is a client bug to report.
  register: strictBody({
    installation_id: t.Unknown({
      description: "Required. A positive integer: the GitHub App installation ID from the installation callback",
      examples: [12345678],
      [DOCUMENTED_AS]: { type: "integer", minimum: 1 },
    }),
  }),
  repoPath: t.Object({ owner: t.String({ maxLength: 39 }), repo: t.String({ maxLength: 100 }) }),
};

export function githubRoutes(deps: ApiDeps) {
  const m = githubModels;
  return (
    new Elysia({ name: "routes:github" })
      // GitHub signs the raw bytes, so the body must reach the handler unparsed. No API key: the signature is the credential.
      .post(
        "/github/webhook",
        ({ request, body, set }) => {
          const delivery = {
            event: request.headers.get("x-github-event"),
            signature: request.headers.get("x-hub-signature-256"),
            rawBody: typeof body === "string" ? body : "",
          };
          // pull_request: preview tenants (core/previews), verified the same way; push and the rest: github-push.
          const outcome =
            delivery.event === "pull_request" ? handlePullRequestWebhook(deps, delivery) : handleGitHubWebhook(deps, delivery);
          set.status = outcome.status === "pong" ? 200 : 202;
          return one(outcome);
        },
        {
          parse: rawBody(deps.config.maxBodyBytes),
          detail: {
            tags,
            summary: "GitHub Webhook",
            description:
              "Signed with X-Hub-Signature-256 (HMAC-SHA256 of the raw body with STAXA_GITHUB_WEBHOOK_SECRET); bad or missing signature → 401. push → 202 with the deployments started; pull_request (opened, synchronize, reopened, closed) → 202 with the previews created, updated or deleted; ping → 200; other events → 202 ignored.",
          },
        },
      )
      .use(auth(deps))
      .get("/github/installation", ({ principal }) => one(core.installationView(core.getInstallation(deps, principal))), {
        scope: "github:read",
        detail: { tags, summary: "Get GitHub Installation" },
      })
      .post(
        "/github/installation",
        async ({ principal, body }) => one(core.installationView(await core.registerInstallation(deps, principal, body))),
        {
          scope: "github:write",
          body: m.register,
          parse: jsonBody(deps.config.maxBodyBytes),
          detail: { tags, summary: "Register GitHub Installation" },
        },
      )
      .delete(
        "/github/installation",
        ({ principal, set }) => {
          core.deleteInstallation(deps, principal);
          set.status = 204;
        },
        { scope: "github:write", detail: { tags, summary: "Delete GitHub Installation" } },
      )
      .get("/github/repos", async ({ principal }) => all(await core.listRepos(deps, principal)), {
        scope: "github:read",
        detail: { tags, summary: "List GitHub Repos" },
      })
      .get(
        "/github/repos/:owner/:repo/branches",
        async ({ principal, params }) => all(await core.listBranches(deps, principal, params.owner, params.repo)),
        { scope: "github:read", params: m.repoPath, detail: { tags, summary: "List GitHub Branches" } },
      )
      // Anything else under /github/repos/ (extra segments, `..` collapsed by URL normalisation) is a bad repo path, not a 404.
      .get(
        "/github/repos/*",
        () => {
          throw new Invalid("repo", "The path must be /github/repos/{owner}/{repo}/branches with GitHub owner and repo names");
        },
        { scope: "github:read" },
      )
  );
}
