// GitHub App end to end: a GitHub API stand-in that verifies the App JWT's RS256 signature and issues tokens,
// a private repo over smart HTTP (`git http-backend`) that demands the installation token, real Docker + Caddy.
// register → repos → branches → tenant from the private repo → ready; a signed push deploys the new commit,
// unsigned/wrongly signed ones are 401 and deploy nothing; the token is nowhere in data dir, events, logs or image.
import { captureStderr } from "../support/capture-stderr.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { dockerCli, ensureTestImages, removeByPrefix, uniqueName } from "../support/docker.ts";
import { commitVersion, e2eApp, fixtureRepo, git, viaCaddy } from "../support/e2e-app.ts";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github.ts";
import { startGitHttpServer, type GitHttpServer } from "../support/git-http-server.ts";
import { signGitHubPayload } from "../../src/core/deploy/github-push.ts";
import { startGitHubStatusReporter } from "../../src/core/github/status.ts";

const PREFIX = uniqueName("e2gh");
const BASE = "e2e-github.test";
const ADMIN_PORT = 23000 + Math.floor(Math.random() * 400) * 2;
const HTTP_PORT = ADMIN_PORT + 1;
const SECRET = "whsec-e2e-github";
const INSTALLATION = 31337;
const OWNER = "acme-org";
const REPO = "private-app";
const work = mkdtempSync(join(tmpdir(), "staxa-e2e-github-"));
const gitRoot = join(work, "git");
const bare = join(gitRoot, OWNER, `${REPO}.git`);
let caddy: TestCaddy;
let gh: FakeGitHub;
let gitServer: GitHttpServer;
let h: Awaited<ReturnType<typeof e2eApp>>;
let src: string;
let tenantId = "";
const logs: string[] = [];
let stopCapture = () => {};

beforeAll(async () => {
  await ensureTestImages();
  // Every log line of the appliance (debug level) is kept, to grep for the token later.
  stopCapture = captureStderr(logs);
  caddy = await startCaddy({ adminPort: ADMIN_PORT });
  gh = startFakeGitHub(work);
  src = await fixtureRepo("private v1");
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
        protectedBranches: ["main"],
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
    STAXA_LOG_LEVEL: "debug",
    STAXA_GITHUB_API_URL: gh.url,
    STAXA_GITHUB_APP_ID: gh.appId,
    STAXA_GITHUB_PRIVATE_KEY_FILE: gh.privateKeyFile,
    STAXA_GITHUB_WEBHOOK_SECRET: SECRET,
    STAXA_GITHUB_WEB_URL: "https://github.com",
    STAXA_GITHUB_GIT_URL: gitServer.url,
  });
  startGitHubStatusReporter(h.ctx);
}, 120_000);

afterAll(async () => {
  stopCapture();
  await removeByPrefix(`staxa-${PREFIX}`);
  const imgs = (await dockerCli(["images", "-q", "--filter", `reference=staxa/${PREFIX}*`])).out.split("\n").filter(Boolean);
  if (imgs.length) await dockerCli(["rmi", "-f", ...imgs]);
  await caddy?.stop();
  gh?.stop();
  gitServer?.stop();
  for (const d of [work, src, h?.dataDir]) if (d) rmSync(d, { recursive: true, force: true });
}, 60_000);

const webhook = async (body: string, headers: Record<string, string>) => {
  const res = await h.app.handle(
    new Request("http://localhost/api/v1/github/webhook", {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "x-github-delivery": crypto.randomUUID(), ...headers },
    }),
  );
  return { status: res.status, json: await res.json() };
};
const deploymentsOf = async () =>
  (await h.call("GET", `/api/v1/tenants/${tenantId}/deployments`)).json.data as Array<{
    id: string;
    status: string;
    commit_sha: string;
    image: string;
    trigger: string;
  }>;

describe("GitHub App, private repo", () => {
  test("the git server demands a token: an anonymous clone is refused", async () => {
    const p = Bun.spawn(["git", "clone", "-q", `${gitServer.url}/${OWNER}/${REPO}.git`, join(work, "anon")], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
    });
    expect(await p.exited).not.toBe(0);
    expect(gitServer.requests.at(-1)!.allowed).toBe(false);
  }, 30_000);

  test("register → repos → branches, each through a verified JWT or an installation token", async () => {
    expect((await h.call("POST", "/api/v1/github/installation", { installation_id: "31337" })).status).toBe(400);
    const r = await h.call("POST", "/api/v1/github/installation", { installation_id: INSTALLATION });
    expect(r.status).toBe(200);
    expect(r.json.data).toMatchObject({ installation_id: INSTALLATION, account: OWNER, status: "active" });
    expect(gh.requests.find((q) => q.path === `/app/installations/${INSTALLATION}`)?.auth).toBe("jwt");
    const repos = await h.call("GET", "/api/v1/github/repos");
    expect(repos.json.data).toEqual([
      { full_name: `${OWNER}/${REPO}`, private: true, default_branch: "main", language: "Dockerfile" },
    ]);
    const branches = await h.call("GET", `/api/v1/github/repos/${OWNER}/${REPO}/branches`);
    expect(branches.json.data).toEqual([{ name: "main", protected: true }]);
    expect((await h.call("GET", `/api/v1/github/repos/${OWNER}/..%2F..%2Fetc/branches`)).status).toBe(400);
  }, 30_000);

  test("a tenant from the private repo clones with the token and reaches ready behind Caddy", async () => {
    const name = `${PREFIX}-priv`;
    const r = await h.call("POST", "/api/v1/tenants", {
      name,
      source_type: "github",
      repo_url: `https://github.com/${OWNER}/${REPO}`,
      branch: "main",
      app_port: 3000,
    });
    expect(r.status).toBe(202);
    tenantId = r.json.data.id;
    const [dep] = await deploymentsOf();
    const done = await h.waitDeployment(tenantId, dep!.id);
    expect(done.status).toBe("succeeded");
    expect(await viaCaddy(HTTP_PORT, `${name}.${BASE}`)).toEqual({ status: 200, body: "private v1" });
    expect(gitServer.requests.some((q) => q.allowed && q.path.endsWith("/git-upload-pack"))).toBe(true);
    for (let i = 0; i < 50 && gh.statuses.length < 2; i++) await Bun.sleep(100);
    expect(gh.statuses.map((s) => s.body.state)).toEqual(["pending", "success"]);
    expect(gh.statuses[1]).toMatchObject({
      repo: `${OWNER}/${REPO}`,
      sha: done.commit_sha,
      body: { context: "staxa", target_url: `http://${name}.${BASE}:${HTTP_PORT}` },
    });
  }, 180_000);

  test("unsigned or wrongly signed pushes → 401 and deploy nothing; a signed push deploys the pushed commit", async () => {
    const sha = await commitVersion(src, "private v2");
    await git(src, "push", "-q", bare, "main");
    const body = JSON.stringify({
      ref: "refs/heads/main",
      before: "0".repeat(40),
      after: sha,
      deleted: false,
      installation: { id: INSTALLATION },
      repository: { full_name: `${OWNER}/${REPO}`, clone_url: `https://github.com/${OWNER}/${REPO}.git`, private: true },
    });
    const before = (await deploymentsOf()).length;
    expect((await webhook(body, { "x-github-event": "push" })).status).toBe(401);
    expect(
      (await webhook(body, { "x-github-event": "push", "x-hub-signature-256": signGitHubPayload("not-the-secret", body) }))
        .status,
    ).toBe(401);
    expect(
      (await webhook(body + " ", { "x-github-event": "push", "x-hub-signature-256": signGitHubPayload(SECRET, body) })).status,
    ).toBe(401);
    expect((await deploymentsOf()).length).toBe(before);
    const r = await webhook(body, { "x-github-event": "push", "x-hub-signature-256": signGitHubPayload(SECRET, body) });
    expect(r.status).toBe(202);
    expect(r.json.data.status).toBe("deployed");
    const done = await h.waitDeployment(tenantId, r.json.data.deployments[0].id);
    expect(done).toMatchObject({ status: "succeeded", commit_sha: sha, trigger: "push" });
    expect(await viaCaddy(HTTP_PORT, `${PREFIX}-priv.${BASE}`)).toEqual({ status: 200, body: "private v2" });
  }, 180_000);

  test("no installation token appears in the data dir, the events, the build logs, the logs or the built images", async () => {
    const tokens = [...gh.tokens.keys()];
    expect(tokens.length).toBeGreaterThan(0);
    const hits: string[] = [];
    const check = (where: string, data: Buffer | string) => {
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
      for (const t of tokens)
        if (buf.includes(t) || buf.includes(Buffer.from(`x-access-token:${t}`).toString("base64"))) hits.push(where);
    };
    const walk = (d: string): void => {
      for (const e of readdirSync(d)) {
        const p = join(d, e);
        if (statSync(p).isDirectory()) walk(p);
        else check(p, readFileSync(p));
      }
    };
    h.ctx.db.exec("PRAGMA wal_checkpoint(FULL)");
    walk(h.dataDir);
    check("events", JSON.stringify(h.ctx.bus.recent(tenantId, 10_000)));
    check("logs", logs.join(""));
    expect(logs.length).toBeGreaterThan(0);
    for (const d of await deploymentsOf()) {
      check(`build log ${d.id}`, (await h.call("GET", `/api/v1/tenants/${tenantId}/deployments/${d.id}/logs`)).text);
      const saved = Bun.spawn(["docker", "save", d.image], { stdout: "pipe", stderr: "ignore" });
      const tar = Buffer.from(await new Response(saved.stdout).arrayBuffer());
      expect(await saved.exited).toBe(0);
      expect(tar.length).toBeGreaterThan(1000);
      check(`image ${d.image}`, tar);
      check(
        `history ${d.image}`,
        (await dockerCli(["history", "--no-trunc", d.image])).out + (await dockerCli(["inspect", d.image])).out,
      );
    }
    expect(hits).toEqual([]);
    check("control", `prefix ${tokens[0]} suffix`); // the grep itself works
    expect(hits).toEqual(["control"]);
  }, 120_000);
});
