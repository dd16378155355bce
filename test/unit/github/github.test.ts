// GitHub App over a fake GitHub (Bun.serve, JWT-verifying): installation endpoints, repos, branches, bad input,
// token caching, clone hook, commit statuses and the signed push webhook.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeGitHub } from "../../support/fake-github.ts";
import { fakeApp } from "../../support/fakes.ts";
import { appJwt, installationToken, TOKEN_MARGIN_MS } from "../../../src/core/github/app.ts";
import { cloneSourceFor, githubWebHost, parseGitHubRepo } from "../../../src/core/github/source.ts";
import { startGitHubStatusReporter } from "../../../src/core/github/status.ts";
import { signGitHubPayload } from "../../../src/core/deploy/github-push.ts";
import { createKey } from "../../../src/core/identity/keys.ts";
import { ensureProvider } from "../../../src/core/identity/accounts.ts";
import { loadConfig } from "../../../src/config.ts";

const dir = mkdtempSync(join(tmpdir(), "staxa-unit-github-"));
const gh = startFakeGitHub(dir);
const SECRET = "whsec-unit-test";
const SHA1 = "1111111111111111111111111111111111111111";
const SHA2 = "2222222222222222222222222222222222222222";
gh.installations.set(777, {
  login: "acme-org",
  repos: [
    {
      owner: "acme-org",
      name: "webapp",
      private: true,
      default_branch: "main",
      language: "TypeScript",
      branches: () => ({ main: SHA1, "feature/auth": SHA2 }),
      protectedBranches: ["main"],
    },
    { owner: "acme-org", name: "api", private: false, default_branch: "main", language: "Go", branches: () => ({ main: SHA1 }) },
  ],
});
gh.installations.set(888, { login: "other-org", repos: [] });
afterAll(() => {
  gh.stop();
  rmSync(dir, { recursive: true, force: true });
});

const env = {
  STAXA_GITHUB_API_URL: gh.url,
  STAXA_GITHUB_APP_ID: gh.appId,
  STAXA_GITHUB_PRIVATE_KEY_FILE: gh.privateKeyFile,
  STAXA_GITHUB_WEBHOOK_SECRET: SECRET,
};
const count = (db: any, table: string) => db.query(`SELECT COUNT(*) AS n FROM ${table}`).get().n as number;

describe("installation endpoints", () => {
  test("GET 404 before registering; POST checks GitHub, stores the account; GET shows it; DELETE 204", async () => {
    const a = await fakeApp(env);
    expect((await a.call("GET", "/api/v1/github/installation")).status).toBe(404);
    const r = await a.call("POST", "/api/v1/github/installation", { installation_id: 777 });
    expect(r.status).toBe(200);
    expect(r.json.data).toMatchObject({ installation_id: 777, account: "acme-org", status: "active" });
    expect(gh.requests.some((q) => q.path === "/app/installations/777" && q.auth === "jwt")).toBe(true);
    const g = await a.call("GET", "/api/v1/github/installation");
    expect(Object.keys(g.json.data).sort()).toEqual(["account", "created_at", "installation_id", "status"]);
    expect((await a.call("DELETE", "/api/v1/github/installation")).status).toBe(204);
    expect((await a.call("GET", "/api/v1/github/installation")).status).toBe(404);
    expect((await a.call("DELETE", "/api/v1/github/installation")).status).toBe(404);
  });

  test("installation ids that are strings, negative, zero, fractional or missing → 400 naming installation_id, nothing stored", async () => {
    const a = await fakeApp(env);
    for (const installation_id of ["777", -1, 0, 1.5, null, "abc", 2 ** 60]) {
      const r = await a.call("POST", "/api/v1/github/installation", { installation_id });
      expect(r.status).toBe(400);
      expect(r.json.error.details.field).toBe("installation_id");
    }
    expect((await a.call("POST", "/api/v1/github/installation", {})).status).toBe(400);
    expect(count(a.ctx.db, "github_installations")).toBe(0);
  });

  test("an installation GitHub does not know → 422 with a clear message, nothing stored", async () => {
    const a = await fakeApp(env);
    const r = await a.call("POST", "/api/v1/github/installation", { installation_id: 999 });
    expect(r.status).toBe(422);
    expect(r.json.error.code).toBe("installation_not_found");
    expect(r.json.error.message).toContain("999");
    expect(count(a.ctx.db, "github_installations")).toBe(0);
  });

  test("an installation linked to another provider → 409", async () => {
    const a = await fakeApp(env);
    expect((await a.call("POST", "/api/v1/github/installation", { installation_id: 888 })).status).toBe(200);
    const { provider } = ensureProvider(a.ctx.db, { email: "b@example.com", name: "B" });
    const kb = createKey(a.ctx.db, { providerId: provider.id, name: "b", mode: "live", scopes: ["*"], expiresAt: null }).raw;
    const r = await a.call("POST", "/api/v1/github/installation", { installation_id: 888 }, { authorization: `Bearer ${kb}` });
    expect(r.status).toBe(409);
    expect((await a.call("GET", "/api/v1/github/installation", undefined, { authorization: `Bearer ${kb}` })).status).toBe(404);
  });

  test("scopes: github:read cannot register; github:write can read", async () => {
    const a = await fakeApp(env);
    const ro = createKey(a.ctx.db, {
      providerId: a.provider.id,
      name: "ro",
      mode: "live",
      scopes: ["github:read"],
      expiresAt: null,
    }).raw;
    const r = await a.call("POST", "/api/v1/github/installation", { installation_id: 777 }, { authorization: `Bearer ${ro}` });
    expect(r.status).toBe(403);
    const rw = createKey(a.ctx.db, {
      providerId: a.provider.id,
      name: "rw",
      mode: "live",
      scopes: ["github:write"],
      expiresAt: null,
    }).raw;
    expect((await a.call("GET", "/api/v1/github/installation", undefined, { authorization: `Bearer ${rw}` })).status).toBe(404);
  });
});

describe("repos and branches", () => {
  test("repos list full_name, private, default_branch, language through the installation token", async () => {
    const a = await fakeApp(env);
    expect((await a.call("GET", "/api/v1/github/repos")).status).toBe(404);
    await a.call("POST", "/api/v1/github/installation", { installation_id: 777 });
    const r = await a.call("GET", "/api/v1/github/repos");
    expect(r.status).toBe(200);
    expect(r.json.data).toEqual([
      { full_name: "acme-org/webapp", private: true, default_branch: "main", language: "TypeScript" },
      { full_name: "acme-org/api", private: false, default_branch: "main", language: "Go" },
    ]);
    expect(gh.requests.filter((q) => q.path === "/installation/repositories").every((q) => q.auth === "token")).toBe(true);
  });

  test("branches list name and protected; unknown repo 404", async () => {
    const a = await fakeApp(env);
    await a.call("POST", "/api/v1/github/installation", { installation_id: 777 });
    const r = await a.call("GET", "/api/v1/github/repos/acme-org/webapp/branches");
    expect(r.json.data).toEqual([
      { name: "main", protected: true },
      { name: "feature/auth", protected: false },
    ]);
    expect((await a.call("GET", "/api/v1/github/repos/acme-org/nope/branches")).status).toBe(404);
  });

  test("branch paths with '..', extra slashes or bad names → 400, GitHub never asked", async () => {
    const a = await fakeApp(env);
    await a.call("POST", "/api/v1/github/installation", { installation_id: 777 });
    const before = gh.requests.length;
    for (const path of [
      "acme-org/../branches",
      "acme-org/%2E%2E/branches",
      "acme-org/web%2F..%2Fx/branches",
      "a/b/c/branches",
      "-bad/webapp/branches",
      "acme-org/..%2F..%2Fetc/branches",
      "acme-org/webapp/tags",
    ]) {
      const r = await a.call("GET", `/api/v1/github/repos/${path}`);
      expect([path, r.status]).toEqual([path, 400]);
      expect(["owner", "repo"]).toContain(r.json.error.details.field);
    }
    expect(gh.requests.length).toBe(before);
  });
});

describe("App JWT and installation tokens", () => {
  const cfg = loadConfig({ STAXA_DATA_DIR: dir, ...env });

  test("the JWT is RS256 with iss = app id, iat 60 s back, exp 9 min ahead", () => {
    const now = Date.UTC(2026, 0, 1);
    const [h, b] = appJwt(cfg, now)
      .split(".")
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, "base64url").toString()));
    expect(h).toEqual({ alg: "RS256", typ: "JWT" });
    expect(b).toEqual({ iat: now / 1000 - 60, exp: now / 1000 + 540, iss: gh.appId });
  });

  test("a token is cached until 5 min before expiry, then renewed; concurrent callers share one request", async () => {
    const c = loadConfig({ STAXA_DATA_DIR: dir, ...env, STAXA_GITHUB_APP_ID: gh.appId });
    const issued = () => gh.requests.filter((q) => q.path === "/app/installations/888/access_tokens").length;
    const n0 = issued();
    const [t1, t1b] = await Promise.all([installationToken(c, 888), installationToken(c, 888)]);
    expect(t1).toBe(t1b);
    expect(issued()).toBe(n0 + 1);
    expect(await installationToken(c, 888, Date.now() + gh.tokenTtlMs - TOKEN_MARGIN_MS - 60_000)).toBe(t1);
    expect(issued()).toBe(n0 + 1);
    const t2 = await installationToken(c, 888, Date.now() + gh.tokenTtlMs - TOKEN_MARGIN_MS + 1000);
    expect(t2).not.toBe(t1);
    expect(issued()).toBe(n0 + 2);
  });

  test("a JWT signed with another key is refused by GitHub, and the error names no token", async () => {
    const other = startFakeGitHub(mkdtempSync(join(tmpdir(), "staxa-unit-gh2-")));
    const c = loadConfig({ STAXA_DATA_DIR: dir, ...env, STAXA_GITHUB_PRIVATE_KEY_FILE: other.privateKeyFile });
    other.stop();
    gh.installations.set(555, { login: "fresh", repos: [] });
    await expect(installationToken(c, 555)).rejects.toThrow(/HTTP 401/);
    expect(gh.requests.at(-1)).toMatchObject({ path: "/app/installations/555/access_tokens", auth: "rejected" });
  });
});

describe("repo URLs and the clone hook", () => {
  test("GitHub repo URLs are recognised on the web host derived from the settings", () => {
    const pub = { githubApiUrl: "https://api.github.com", githubWebUrl: "" };
    expect(githubWebHost(pub)).toBe("github.com");
    expect(githubWebHost({ githubApiUrl: "https://ghe.example.com/api/v3", githubWebUrl: "" })).toBe("ghe.example.com");
    expect(githubWebHost({ githubApiUrl: "http://127.0.0.1:1", githubWebUrl: "https://github.com" })).toBe("github.com");
    expect(parseGitHubRepo(pub, "https://github.com/acme/web.git")).toEqual({ owner: "acme", repo: "web", fullName: "acme/web" });
    expect(parseGitHubRepo(pub, "https://github.com/acme/web/")?.fullName).toBe("acme/web");
    for (const u of [
      "https://gitlab.com/acme/web",
      "http://github.com/acme/web",
      "https://github.com/acme/web/tree/x",
      "https://github.com/acme/..",
      "git@github.com:acme/web.git",
      "https://x:y@github.com/acme/web",
    ]) {
      expect(parseGitHubRepo(pub, u)).toBeUndefined();
    }
  });

  test("a repo of the installation clones from STAXA_GITHUB_GIT_URL with a fresh token; others pass through without one", async () => {
    const a = await fakeApp({ ...env, STAXA_GITHUB_WEB_URL: "https://github.com", STAXA_GITHUB_GIT_URL: "http://127.0.0.1:9/" });
    const owner = { provider_id: a.provider.id };
    expect(await cloneSourceFor(a.ctx, owner, "https://github.com/acme-org/webapp")).toEqual({
      repoUrl: "http://127.0.0.1:9/acme-org/webapp.git",
    });
    await a.call("POST", "/api/v1/github/installation", { installation_id: 777 });
    const s = await cloneSourceFor(a.ctx, owner, "https://github.com/acme-org/webapp");
    expect(s.repoUrl).toBe("http://127.0.0.1:9/acme-org/webapp.git");
    expect(gh.isValidToken(s.token!)).toBe(true);
    expect(await cloneSourceFor(a.ctx, owner, "https://example.com/x/y.git")).toEqual({ repoUrl: "https://example.com/x/y.git" });
  });
});
