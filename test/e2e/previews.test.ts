// Pull request previews end to end: the fake GitHub (verified App JWTs, installation tokens, statuses, comments), a
// private repo over smart HTTP, real Docker + Caddy. A signed pull_request opened → a preview tenant serving the PR's
// code at its own host, a commit status and a comment carrying its URL; synchronize → the new commit served; closed
// → its containers, network and route are gone (asked of Docker and Caddy), the base tenant still serving.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { dockerCli, ensureTestImages, removeByPrefix, uniqueName } from "../support/docker.ts";
import { commitVersion, e2eApp, fixtureRepo, git, viaCaddy } from "../support/e2e-app.ts";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github.ts";
import { startGitHttpServer, type GitHttpServer } from "../support/git-http-server.ts";
import { signGitHubPayload } from "../../src/core/deploy/github-push.ts";
import { startGitHubStatusReporter } from "../../src/core/github/status.ts";
import { startPreviewReporter } from "../../src/core/previews/comment.ts";

const PREFIX = uniqueName("e2pv");
const BASE = "e2e-previews.test";
const ADMIN_PORT = 23800 + Math.floor(Math.random() * 400) * 2;
const HTTP_PORT = ADMIN_PORT + 1;
const SECRET = "whsec-e2e-previews";
const INSTALLATION = 42424;
const OWNER = "acme-org";
const REPO = "preview-app";
const PR = 4;
const work = mkdtempSync(join(tmpdir(), "staxa-e2e-previews-"));
const gitRoot = join(work, "git");
const bare = join(gitRoot, OWNER, `${REPO}.git`);
const name = `${PREFIX}-app`;
const previewName = `${name}-pr-${PR}`;
const previewHost = `${previewName}.${BASE}`;
const previewUrl = `http://${previewHost}:${HTTP_PORT}`;
let caddy: TestCaddy;
let gh: FakeGitHub;
let gitServer: GitHttpServer;
let h: Awaited<ReturnType<typeof e2eApp>>;
let src: string;
let baseId = "";
let previewId = "";

beforeAll(async () => {
  await ensureTestImages();
  caddy = await startCaddy({ adminPort: ADMIN_PORT });
  gh = startFakeGitHub(work);
  src = await fixtureRepo("base v1");
  await git(work, "clone", "-q", "--bare", src, bare);
  gh.installations.set(INSTALLATION, {
    login: OWNER,
    repos: [
      {
        owner: OWNER,
        name: REPO,
        private: true,
        default_branch: "main",
        language: "Dockerfile",
        branches: async () =>
          Object.fromEntries(
            (await git(bare, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads"))
              .split("\n")
              .map((l) => l.split(" ")),
          ),
      },
    ],
  });
  gitServer = startGitHttpServer(gitRoot, (token) => !!token && gh.isValidToken(token));
  h = await e2eApp({
    STAXA_BASE_DOMAIN: BASE,
    STAXA_PUBLIC_SCHEME: "http",
    STAXA_HTTP_PORT: String(HTTP_PORT),
    STAXA_HTTPS_PORT: String(HTTP_PORT + 800),
    STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
    STAXA_ALLOW_PRIVATE_TARGETS: "1",
    STAXA_DRAIN_SEC: "0",
    STAXA_HEALTH_TIMEOUT_SEC: "15",
    STAXA_GITHUB_API_URL: gh.url,
    STAXA_GITHUB_APP_ID: gh.appId,
    STAXA_GITHUB_PRIVATE_KEY_FILE: gh.privateKeyFile,
    STAXA_GITHUB_WEBHOOK_SECRET: SECRET,
    STAXA_GITHUB_WEB_URL: "https://github.com",
    STAXA_GITHUB_GIT_URL: gitServer.url,
  });
  startGitHubStatusReporter(h.ctx);
  startPreviewReporter(h.ctx);
}, 120_000);

afterAll(async () => {
  await removeByPrefix(`staxa-${PREFIX}`);
  const imgs = (await dockerCli(["images", "-q", "--filter", `reference=staxa/${PREFIX}*`])).out.split("\n").filter(Boolean);
  if (imgs.length) await dockerCli(["rmi", "-f", ...imgs]);
  await caddy?.stop();
  gh?.stop();
  gitServer?.stop();
  await h?.resolver.kill();
  for (const d of [work, src, h?.dataDir]) if (d) rmSync(d, { recursive: true, force: true });
}, 60_000);

const pullRequest = (action: string, sha: string) =>
  JSON.stringify({
    action,
    number: PR,
    pull_request: {
      number: PR,
      state: action === "closed" ? "closed" : "open",
      head: { ref: "feature", sha, repo: { full_name: `${OWNER}/${REPO}`, fork: false } },
      base: { ref: "main", repo: { full_name: `${OWNER}/${REPO}` } },
    },
    repository: { full_name: `${OWNER}/${REPO}` },
    installation: { id: INSTALLATION },
  });
const webhook = async (body: string) => {
  const res = await h.app.handle(
    new Request("http://localhost/api/v1/github/webhook", {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "x-github-event": "pull_request",
        "x-github-delivery": crypto.randomUUID(),
        "x-hub-signature-256": signGitHubPayload(SECRET, body),
      },
    }),
  );
  return { status: res.status, json: await res.json() };
};
/** The preview's newest deployment, once it has finished. */
const latestDeployment = async (tenantId: string) => {
  const [dep] = (await h.call("GET", `/api/v1/tenants/${tenantId}/deployments`)).json.data as Array<{ id: string }>;
  return h.waitDeployment(tenantId, dep!.id);
};
const until = async (what: string, ok: () => boolean | Promise<boolean>, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
};
const previewStatuses = (sha: string) => gh.statuses.filter((s) => s.sha === sha && s.body.context === "staxa/preview");

describe("pull request previews", () => {
  test("the base tenant serves main; previews are switched on with env overrides", async () => {
    expect((await h.call("POST", "/api/v1/github/installation", { installation_id: INSTALLATION })).status).toBe(200);
    const r = await h.call("POST", "/api/v1/tenants", {
      name,
      source_type: "github",
      repo_url: `https://github.com/${OWNER}/${REPO}`,
      branch: "main",
      app_port: 3000,
      env: { GREETING: "hello", STRIPE_KEY: "sk_live_never_in_previews" },
    });
    expect(r.status).toBe(202);
    baseId = r.json.data.id;
    expect((await latestDeployment(baseId)).status).toBe("succeeded");
    expect(await viaCaddy(HTTP_PORT, `${name}.${BASE}`)).toEqual({ status: 200, body: "base v1" });
    const put = await h.call("PUT", `/api/v1/tenants/${baseId}/previews`, {
      enabled: true,
      env_overrides: { STRIPE_KEY: null, APP_ENV: "preview" },
    });
    expect(put.status).toBe(200);
    expect(put.json.data.watches).toEqual([{ repo: `${OWNER}/${REPO}`, branch: "main" }]);
  }, 180_000);

  test("opened → the PR's code served at its own host, a success status and a comment with the URL", async () => {
    await git(src, "checkout", "-q", "-b", "feature");
    const sha = await commitVersion(src, "pr v1");
    await git(src, "push", "-q", bare, "feature");
    const r = await webhook(pullRequest("opened", sha));
    expect(r.status).toBe(202);
    expect(r.json.data).toMatchObject({ status: "previews", previews: [{ action: "created", name: previewName }] });
    previewId = r.json.data.previews[0].tenant_id;
    const dep = await latestDeployment(previewId);
    expect(dep).toMatchObject({ status: "succeeded", commit_sha: sha, branch: "feature" });
    expect(await viaCaddy(HTTP_PORT, previewHost)).toEqual({ status: 200, body: "pr v1" });
    expect(await viaCaddy(HTTP_PORT, `${name}.${BASE}`)).toEqual({ status: 200, body: "base v1" });
    await until(
      "the success status and the comment",
      () => previewStatuses(sha).some((s) => s.body.state === "success") && gh.comments.length > 0,
    );
    expect(previewStatuses(sha).map((s) => [s.repo, s.body.state, s.body.target_url])).toEqual([
      [`${OWNER}/${REPO}`, "pending", previewUrl],
      [`${OWNER}/${REPO}`, "success", previewUrl],
    ]);
    expect(gh.comments).toHaveLength(1);
    expect(gh.comments[0]).toMatchObject({ repo: `${OWNER}/${REPO}`, issue: PR });
    expect(gh.comments[0]!.body).toContain(previewUrl);
    // The overrides reached the container: APP_ENV set, the live key removed, the rest of the tenant's env kept.
    const ids = (await dockerCli(["ps", "-q", "--filter", `label=staxa.tenant=${previewName}`])).out.split("\n").filter(Boolean);
    expect(ids).toHaveLength(1);
    const env = JSON.parse((await dockerCli(["inspect", "--format", "{{json .Config.Env}}", ids[0]!])).out) as string[];
    expect(env).toContain("APP_ENV=preview");
    expect(env).toContain("GREETING=hello");
    expect(env.some((e) => e.startsWith("STRIPE_KEY="))).toBe(false);
    const list = (await h.call("GET", "/api/v1/tenants")).json.data as Array<{ name: string; preview: unknown }>;
    expect(list.find((t) => t.name === previewName)?.preview).toMatchObject({ base_tenant_id: baseId, pr_number: PR });
  }, 180_000);

  test("synchronize → the new commit is served at the same host, its status carries the URL, the comment is edited", async () => {
    const sha = await commitVersion(src, "pr v2");
    await git(src, "push", "-q", bare, "feature");
    const r = await webhook(pullRequest("synchronize", sha));
    expect(r.json.data.previews).toMatchObject([{ action: "updated", tenant_id: previewId }]);
    expect(await latestDeployment(previewId)).toMatchObject({ status: "succeeded", commit_sha: sha });
    expect(await viaCaddy(HTTP_PORT, previewHost)).toEqual({ status: 200, body: "pr v2" });
    await until(
      "the new commit's success status and the edited comment",
      () => previewStatuses(sha).some((s) => s.body.state === "success") && gh.comments[0]!.edits > 0,
    );
    expect(previewStatuses(sha).at(-1)!.body.target_url).toBe(previewUrl);
    expect(gh.comments).toHaveLength(1);
    expect(gh.comments[0]!.body).toContain(sha.slice(0, 12));
  }, 180_000);

  test("closed → containers, network and route are gone; the base tenant still serves", async () => {
    expect(h.ctx.proxy.hasHost(previewHost)).toBe(true);
    const r = await webhook(pullRequest("closed", (await git(src, "rev-parse", "HEAD")).trim()));
    expect(r.json.data.previews).toMatchObject([{ action: "deleted", tenant_id: previewId }]);
    await until(
      "the preview tenant to be gone",
      async () => (await h.call("GET", `/api/v1/tenants/${previewId}`)).status === 404,
      60_000,
    );
    expect((await dockerCli(["ps", "-aq", "--filter", `label=staxa.tenant=${previewName}`])).out.trim()).toBe("");
    expect((await dockerCli(["network", "ls", "-q", "--filter", `name=^staxa-${previewName}$`])).out.trim()).toBe("");
    expect(h.ctx.proxy.hasHost(previewHost)).toBe(false);
    // Through Caddy the host is now an unknown one: the resolver's 404 page, not the preview.
    const after = await viaCaddy(HTTP_PORT, previewHost);
    expect(after.status).toBe(404);
    expect(after.body).not.toContain("pr v");
    expect(await viaCaddy(HTTP_PORT, `${name}.${BASE}`)).toEqual({ status: 200, body: "base v1" });
    expect((await h.call("GET", `/api/v1/tenants/${baseId}/previews/list`)).json.data).toEqual([]);
  }, 120_000);
});
