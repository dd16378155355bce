// Pull request previews over the fakes (runtime, proxy, git) and the fake GitHub: the settings API, a signed
// pull_request creating, updating and deleting a preview tenant, its commit statuses and its one PR comment, forks,
// the per-provider limit, pushes that leave previews alone, and the TTL sweep.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeGitHub } from "../../support/fake-github.ts";
import { fakeApp } from "../../support/fakes.ts";
import { signGitHubPayload } from "../../../src/core/deploy/github-push.ts";
import { startGitHubStatusReporter } from "../../../src/core/github/status.ts";
import { startPreviewReporter } from "../../../src/core/previews/comment.ts";
import { sweepPreviews } from "../../../src/core/previews/expiry.ts";

const dir = mkdtempSync(join(tmpdir(), "staxa-unit-previews-"));
const gh = startFakeGitHub(dir);
const SECRET = "whsec-unit-previews";
const HEAD1 = "1111111111111111111111111111111111111111";
const HEAD2 = "2222222222222222222222222222222222222222";
gh.installations.set(4343, {
  login: "acme-org",
  repos: [
    {
      owner: "acme-org",
      name: "webapp",
      private: true,
      default_branch: "main",
      language: null,
      branches: () => ({ main: HEAD1 }),
    },
  ],
});
afterAll(() => {
  gh.stop();
  rmSync(dir, { recursive: true, force: true });
});

const env = {
  STAXA_GITHUB_API_URL: gh.url,
  STAXA_GITHUB_APP_ID: gh.appId,
  STAXA_GITHUB_PRIVATE_KEY_FILE: gh.privateKeyFile,
  STAXA_GITHUB_WEBHOOK_SECRET: SECRET,
  STAXA_GITHUB_WEB_URL: "https://github.com",
};

const prBody = (action: string, n: number, sha: string, headRepo = "acme-org/webapp", ref = "feature/login") =>
  JSON.stringify({
    action,
    number: n,
    pull_request: {
      number: n,
      state: action === "closed" ? "closed" : "open",
      head: { ref, sha, repo: { full_name: headRepo, fork: headRepo !== "acme-org/webapp" } },
      base: { ref: "main", sha: HEAD1, repo: { full_name: "acme-org/webapp" } },
    },
    repository: { full_name: "acme-org/webapp" },
    installation: { id: 4343 },
  });

async function setup(extraEnv: Record<string, string> = {}) {
  const a = await fakeApp({ ...env, ...extraEnv });
  startGitHubStatusReporter(a.ctx);
  startPreviewReporter(a.ctx);
  expect((await a.call("POST", "/api/v1/github/installation", { installation_id: 4343 })).status).toBe(200);
  const t = await a.call("POST", "/api/v1/tenants", {
    name: "acme-web",
    services: [
      {
        name: "web",
        source_type: "github",
        repo_url: "https://github.com/acme-org/webapp",
        branch: "main",
        port: 3000,
        is_primary: true,
        is_routable: true,
        resource_size: "large",
      },
      { name: "worker", source_type: "image", image_url: "example/worker:1", env: { STRIPE_KEY: "sk_live_worker" } },
    ],
    env: { GREETING: "hi", STRIPE_KEY: "sk_live_tenant" },
  });
  expect(t.status).toBe(202);
  await a.idle();
  const hook = async (body: string, event = "pull_request", sig: string | null = signGitHubPayload(SECRET, body)) => {
    const headers: Record<string, string> = { "content-type": "application/json", "x-github-event": event };
    if (sig) headers["x-hub-signature-256"] = sig;
    const res = await a.app.handle(new Request("http://localhost/api/v1/github/webhook", { method: "POST", body, headers }));
    return { status: res.status, json: await res.json() };
  };
  const settle = async (until: () => boolean) => {
    await a.idle();
    for (let i = 0; i < 100 && !until(); i++) await Bun.sleep(20);
  };
  return { a, base: t.json.data.id as string, hook, settle };
}

describe("GET/PUT /tenants/{id}/previews", () => {
  test("defaults off; PUT sets the given fields, masks secret overrides, names the repos watched", async () => {
    const { a, base } = await setup();
    const got = await a.call("GET", `/api/v1/tenants/${base}/previews`);
    expect(got.json.data).toMatchObject({ enabled: false, allow_forks: false, ttl_hours: 72, env_overrides: [], limit: 10 });
    const put = await a.call("PUT", `/api/v1/tenants/${base}/previews`, {
      enabled: true,
      env_overrides: { STRIPE_KEY: null, MODE: "preview", DB_PASSWORD: "pw-preview-1" },
    });
    expect(put.status).toBe(200);
    expect(put.json.data).toMatchObject({
      enabled: true,
      allow_forks: false,
      env_overrides: [
        { key: "DB_PASSWORD", value: "****" },
        { key: "MODE", value: "preview" },
        { key: "STRIPE_KEY", value: null },
      ],
      watches: [{ repo: "acme-org/webapp", branch: "main" }],
    });
    expect((await a.call("PUT", `/api/v1/tenants/${base}/previews`, { ttl_hours: 5 })).json.data).toMatchObject({
      enabled: true,
      ttl_hours: 5,
    });
    expect(JSON.stringify(a.ctx.db.query("SELECT * FROM preview_settings").all())).not.toContain("pw-preview-1");
  });

  test("an unknown field or a bad value is a 400 naming it, and changes nothing", async () => {
    const { a, base } = await setup();
    for (const [body, field] of [
      [{ enabled: true, shell: 1 }, "shell"],
      [{ ttl_hours: "5" }, "ttl_hours"],
      [{ env_overrides: { LD_PRELOAD: "/x.so" } }, "env_overrides.LD_PRELOAD"],
    ] as const) {
      const r = await a.call("PUT", `/api/v1/tenants/${base}/previews`, body);
      expect([r.status, r.json.error.details.field]).toEqual([400, field]);
    }
    expect((await a.call("GET", `/api/v1/tenants/${base}/previews`)).json.data.enabled).toBe(false);
  });
});

describe("pull_request webhook", () => {
  test("unsigned or wrongly signed → 401 and no preview", async () => {
    const { a, base, hook } = await setup();
    await a.call("PUT", `/api/v1/tenants/${base}/previews`, { enabled: true });
    const body = prBody("opened", 3, HEAD1);
    expect((await hook(body, "pull_request", null)).status).toBe(401);
    expect((await hook(body, "pull_request", signGitHubPayload("not-the-secret", body))).status).toBe(401);
    expect(a.ctx.db.query("SELECT COUNT(*) AS n FROM previews").get()).toEqual({ n: 0 });
  });

  test("previews off → ignored; an action that changes nothing → ignored", async () => {
    const { a, base, hook } = await setup();
    expect((await hook(prBody("opened", 3, HEAD1))).json.data.status).toBe("ignored");
    await a.call("PUT", `/api/v1/tenants/${base}/previews`, { enabled: true });
    expect((await hook(prBody("labeled", 3, HEAD1))).json.data.status).toBe("ignored");
    expect(a.ctx.db.query("SELECT COUNT(*) AS n FROM tenants").get()).toEqual({ n: 1 });
  });

  test("opened → a preview tenant at the head commit, small, env with overrides, a status and one comment with its URL; synchronize updates it; closed deletes it", async () => {
    const { a, base, hook, settle } = await setup();
    // One fake GitHub serves every test of the file: this test reads only what came after its start.
    const statuses =
      (s0 = gh.statuses.length) =>
      () =>
        gh.statuses.slice(s0).filter((x) => x.body.context === "staxa/preview");
    const mine = statuses();
    const comments = (
      (c0 = gh.comments.length) =>
      () =>
        gh.comments.slice(c0)
    )();
    await a.call("PUT", `/api/v1/tenants/${base}/previews`, {
      enabled: true,
      env_overrides: { STRIPE_KEY: null, MODE: "preview" },
    });
    const opened = await hook(prBody("opened", 7, HEAD1));
    expect(opened.status).toBe(202);
    expect(opened.json.data).toMatchObject({ status: "previews", previews: [{ action: "created", name: "acme-web-pr-7" }] });
    const id = opened.json.data.previews[0].tenant_id as string;
    const url = "https://acme-web-pr-7.staxa.test";
    await settle(() => comments().length > 0 && mine().length >= 2);

    const t = (await a.call("GET", `/api/v1/tenants/${id}`)).json.data;
    expect(t).toMatchObject({
      name: "acme-web-pr-7",
      status: "ready",
      domains: [],
      preview: { base_tenant_id: base, pr_number: 7 },
    });
    const svc = Object.fromEntries(t.services.map((s: any) => [s.name, s]));
    expect(svc.web).toMatchObject({ branch: "feature/login", resource_size: "small" });
    expect(svc.worker).toMatchObject({ image_url: "example/worker:1", resource_size: "small", env: [] }); // STRIPE_KEY removed
    const envOf = Object.fromEntries(
      ((await a.call("GET", `/api/v1/tenants/${id}/env`)).json.data as any[]).map((v) => [v.key, v.value]),
    );
    expect(envOf).toEqual({ GREETING: "hi", MODE: "preview" });
    const clone = a.git.clones.at(-1)!;
    expect([clone.branch, clone.commitSha, clone.repoUrl]).toEqual([
      "feature/login",
      HEAD1,
      "https://github.com/acme-org/webapp",
    ]);
    expect(mine().map((s) => [s.sha, s.body.state, s.body.context, s.body.target_url])).toEqual([
      [HEAD1, "pending", "staxa/preview", url],
      [HEAD1, "success", "staxa/preview", url],
    ]);
    expect(comments()).toMatchObject([{ repo: "acme-org/webapp", issue: 7, edits: 0 }]);
    expect(comments()[0]!.body).toContain(url);

    // The tenant list marks it; the base lists it.
    const list = (await a.call("GET", "/api/v1/tenants")).json.data as any[];
    expect(list.map((x) => [x.name, x.preview?.pr_number ?? null]).sort()).toEqual([
      ["acme-web", null],
      ["acme-web-pr-7", 7],
    ]);
    const listed = (await a.call("GET", `/api/v1/tenants/${base}/previews/list`)).json.data;
    expect(listed).toMatchObject([{ tenant_id: id, pr_number: 7, head_sha: HEAD1, fork: false, url, status: "ready" }]);
    expect((await a.call("PUT", `/api/v1/tenants/${id}/previews`, { enabled: true })).status).toBe(422);

    // A push to the PR's branch is the preview's business only through pull_request events.
    const push = JSON.stringify({
      ref: "refs/heads/feature/login",
      after: HEAD2,
      repository: { full_name: "acme-org/webapp" },
      installation: { id: 4343 },
    });
    expect((await hook(push, "push")).json.data.status).toBe("ignored");

    const sync = await hook(prBody("synchronize", 7, HEAD2));
    expect(sync.json.data.previews).toMatchObject([{ action: "updated", tenant_id: id }]);
    await settle(() => comments()[0]!.edits > 0);
    expect(a.git.clones.at(-1)!.commitSha).toBe(HEAD2);
    expect(mine().at(-1)!.body).toMatchObject({ state: "success", context: "staxa/preview", target_url: url });
    expect(mine().at(-1)!.sha).toBe(HEAD2);
    expect(comments()).toHaveLength(1);
    expect(comments()[0]!.body).toContain(HEAD2.slice(0, 12));
    expect((await hook(prBody("synchronize", 7, HEAD2))).json.data.previews[0].action).toBe("unchanged");

    const closed = await hook(prBody("closed", 7, HEAD2));
    expect(closed.json.data.previews).toMatchObject([{ action: "deleted", tenant_id: id }]);
    await a.idle();
    expect((await a.call("GET", `/api/v1/tenants/${id}`)).status).toBe(404);
    expect(await a.runtime.listContainers({ "staxa.tenant_id": id })).toEqual([]);
    expect(a.proxy.hasHost("acme-web-pr-7.staxa.test")).toBe(false);
    expect(a.runtime.networks.has("staxa-acme-web-pr-7")).toBe(false);
    expect(a.ctx.db.query("SELECT COUNT(*) AS n FROM previews").get()).toEqual({ n: 0 });
    expect(a.proxy.hasHost("acme-web.staxa.test")).toBe(true); // the base is untouched
  });

  test("a fork's pull request is skipped unless allow_forks; then it builds the fork's head", async () => {
    const { a, base, hook } = await setup();
    await a.call("PUT", `/api/v1/tenants/${base}/previews`, { enabled: true });
    const r = await hook(prBody("opened", 9, HEAD1, "eve/webapp", "patch-1"));
    expect(r.json.data.previews).toMatchObject([{ action: "skipped" }]);
    expect(r.json.data.previews[0].reason).toContain("fork");
    expect(a.ctx.db.query("SELECT COUNT(*) AS n FROM tenants").get()).toEqual({ n: 1 });
    await a.call("PUT", `/api/v1/tenants/${base}/previews`, { allow_forks: true });
    const ok = await hook(prBody("opened", 9, HEAD1, "eve/webapp", "patch-1"));
    expect(ok.json.data.previews).toMatchObject([{ action: "created", name: "acme-web-pr-9" }]);
    await a.idle();
    const clone = a.git.clones.at(-1)!;
    expect([clone.repoUrl, clone.branch, clone.commitSha]).toEqual(["https://github.com/eve/webapp", "patch-1", HEAD1]);
  });

  test("at STAXA_PREVIEW_LIMIT the next pull request is skipped with a failure status saying why", async () => {
    const { a, base, hook } = await setup({ STAXA_PREVIEW_LIMIT: "1" });
    await a.call("PUT", `/api/v1/tenants/${base}/previews`, { enabled: true });
    expect((await hook(prBody("opened", 1, HEAD1))).json.data.previews[0].action).toBe("created");
    const before = gh.statuses.length;
    const r = await hook(prBody("opened", 2, HEAD2));
    expect(r.json.data.previews[0]).toMatchObject({ action: "skipped" });
    expect(r.json.data.previews[0].reason).toContain("limit of 1");
    for (let i = 0; i < 100 && !gh.statuses.slice(before).some((s) => s.sha === HEAD2); i++) await Bun.sleep(20);
    expect(gh.statuses.slice(before).find((s) => s.sha === HEAD2)?.body).toMatchObject({
      state: "failure",
      context: "staxa/preview",
    });
    await a.idle();
  });

  test("the TTL sweep deletes a preview without a new commit for ttl_hours, and one whose base is deleted", async () => {
    const { a, base, hook } = await setup();
    await a.call("PUT", `/api/v1/tenants/${base}/previews`, { enabled: true, ttl_hours: 2 });
    const p1 = (await hook(prBody("opened", 11, HEAD1))).json.data.previews[0].tenant_id;
    await a.idle();
    expect(sweepPreviews(a.ctx)).toEqual([]);
    const real = a.ctx.now;
    a.ctx.now = () => new Date(real().getTime() + 2 * 3_600_000 + 1000);
    expect(sweepPreviews(a.ctx)).toEqual(["acme-web-pr-11"]);
    await a.idle();
    expect((await a.call("GET", `/api/v1/tenants/${p1}`)).status).toBe(404);
    a.ctx.now = real;

    const p2 = (await hook(prBody("opened", 12, HEAD2))).json.data.previews[0].tenant_id;
    await a.idle();
    expect((await a.call("DELETE", `/api/v1/tenants/${base}`)).status).toBe(202);
    await a.idle();
    expect(sweepPreviews(a.ctx)).toEqual(["acme-web-pr-12"]);
    await a.idle();
    expect((await a.call("GET", `/api/v1/tenants/${p2}`)).status).toBe(404);
  });
});
