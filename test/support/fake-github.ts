// A GitHub REST API stand-in (Bun.serve) speaking GitHub's wire format: it VERIFIES App JWTs (RS256, with the
// App's public key), issues installation tokens, and serves repos, branches, commit statuses and issue (PR) comments
// to those tokens.
import { generateKeyPairSync, randomBytes, verify, type KeyObject } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface FakeRepo {
  owner: string;
  name: string;
  private: boolean;
  default_branch: string;
  language: string | null;
  /** branch name → head sha (a function so a test's git repo can be the truth). */
  branches: () => Promise<Record<string, string>> | Record<string, string>;
  protectedBranches?: string[];
}

export interface FakeGitHub {
  url: string;
  appId: string;
  privateKeyFile: string;
  installations: Map<number, { login: string; repos: FakeRepo[]; suspended?: boolean }>;
  /** Tokens issued so far (value → installation and expiry). */
  tokens: Map<string, { installationId: number; expiresAt: number }>;
  statuses: Array<{ repo: string; sha: string; body: any; token: string }>;
  /** Issue and pull request comments, as posted and then edited (id → current body). */
  comments: Array<{ id: number; repo: string; issue: number; body: string; edits: number }>;
  /** Every request: method, path, and whether its credential was accepted. */
  requests: Array<{ method: string; path: string; auth: "jwt" | "token" | "none" | "rejected" }>;
  tokenTtlMs: number;
  isValidToken(token: string): boolean;
  stop(): void;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8" } });
const notFound = () => json(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" });
const badCredentials = () =>
  json(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest", status: "401" });

/** Verifies an App JWT as GitHub does: RS256 signature with the App's public key, iss = app id, a live iat/exp window of ≤ 10 min. */
export function verifyAppJwt(jwt: string, publicKey: KeyObject, appId: string, nowSec = Math.floor(Date.now() / 1000)): boolean {
  const parts = jwt.split(".");
  if (parts.length !== 3) return false;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, "base64url").toString());
    const claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString());
    if (header.alg !== "RS256") return false;
    if (!verify("RSA-SHA256", Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2]!, "base64url")))
      return false;
    return String(claims.iss) === appId && claims.iat <= nowSec + 5 && claims.exp > nowSec && claims.exp - claims.iat <= 600;
  } catch {
    return false;
  }
}

/** Starts the fake on a free loopback port; writes the App's private key to `dir`/app.pem. */
export function startFakeGitHub(dir: string, opts: { appId?: string; tokenTtlMs?: number } = {}): FakeGitHub {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const privateKeyFile = join(dir, "github-app.pem");
  writeFileSync(privateKeyFile, privateKey.export({ type: "pkcs1", format: "pem" }) as string, { mode: 0o600 });
  const fake = {
    url: "",
    appId: opts.appId ?? "424242",
    privateKeyFile,
    installations: new Map(),
    tokens: new Map(),
    statuses: [],
    comments: [],
    requests: [],
    tokenTtlMs: opts.tokenTtlMs ?? 3_600_000,
    isValidToken: (token: string) => (fake.tokens.get(token)?.expiresAt ?? 0) > Date.now(),
    stop: () => server.stop(true),
  } as FakeGitHub;

  const repoView = (r: FakeRepo, i: number) => ({
    id: 1000 + i,
    node_id: `R_${i}`,
    name: r.name,
    full_name: `${r.owner}/${r.name}`,
    private: r.private,
    owner: { login: r.owner, id: 1, type: "Organization" },
    html_url: `https://github.com/${r.owner}/${r.name}`,
    clone_url: `https://github.com/${r.owner}/${r.name}.git`,
    default_branch: r.default_branch,
    language: r.language,
  });
  const findRepo = (installationId: number, owner: string, name: string) =>
    fake.installations
      .get(installationId)
      ?.repos.find((r) => r.owner.toLowerCase() === owner.toLowerCase() && r.name.toLowerCase() === name.toLowerCase());

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      const path = url.pathname;
      const bearer = /^Bearer (\S+)$/.exec(req.headers.get("authorization") ?? "")?.[1];
      const log = (auth: FakeGitHub["requests"][number]["auth"]) => fake.requests.push({ method: req.method, path, auth });
      if (
        req.headers.get("accept") !== "application/vnd.github+json" ||
        req.headers.get("x-github-api-version") !== "2022-11-28"
      ) {
        return json(415, { message: "Unsupported Accept or API version header" });
      }
      // App endpoints: JWT only.
      let m = /^\/app\/installations\/(\d+)(\/access_tokens)?$/.exec(path);
      if (m) {
        if (!bearer || !verifyAppJwt(bearer, publicKey, fake.appId))
          return (
            log("rejected"),
            json(401, { message: "A JSON web token could not be decoded", documentation_url: "https://docs.github.com/rest" })
          );
        log("jwt");
        const id = Number(m[1]);
        const inst = fake.installations.get(id);
        if (!inst) return notFound();
        if (!m[2] && req.method === "GET") {
          return json(200, {
            id,
            account: { login: inst.login, id: 7, type: "Organization" },
            app_id: Number(fake.appId),
            target_type: "Organization",
            repository_selection: "selected",
            permissions: { contents: "read", statuses: "write", metadata: "read", pull_requests: "write" },
            events: ["push", "pull_request"],
            suspended_at: inst.suspended ? new Date().toISOString() : null,
            created_at: "2026-01-15T10:30:00Z",
          });
        }
        if (m[2] && req.method === "POST") {
          const token = `ghs_${randomBytes(18).toString("base64url").replace(/[-_]/g, "x")}`;
          const expiresAt = Date.now() + fake.tokenTtlMs;
          fake.tokens.set(token, { installationId: id, expiresAt });
          return json(201, {
            token,
            expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
            permissions: { contents: "read", statuses: "write" },
            repository_selection: "selected",
          });
        }
        return notFound();
      }
      // Installation endpoints: an unexpired installation token only.
      const tok = bearer ? fake.tokens.get(bearer) : undefined;
      if (!tok || tok.expiresAt <= Date.now()) return (log(bearer ? "rejected" : "none"), badCredentials());
      log("token");
      const inst = fake.installations.get(tok.installationId)!;
      if (path === "/installation/repositories" && req.method === "GET") {
        const per = Number(url.searchParams.get("per_page") ?? 30);
        const page = Number(url.searchParams.get("page") ?? 1);
        const all = inst.repos.map(repoView);
        return json(200, {
          total_count: all.length,
          repository_selection: "selected",
          repositories: all.slice((page - 1) * per, page * per),
        });
      }
      m = /^\/repos\/([^/]+)\/([^/]+)\/branches(?:\/(.+))?$/.exec(path);
      if (m && req.method === "GET") {
        const repo = findRepo(tok.installationId, m[1]!, m[2]!);
        if (!repo) return notFound();
        const heads = await repo.branches();
        const view = (name: string) => ({
          name,
          commit: { sha: heads[name], url: `${fake.url}/repos/${repo.owner}/${repo.name}/commits/${heads[name]}` },
          protected: (repo.protectedBranches ?? []).includes(name),
        });
        if (m[3])
          return heads[decodeURIComponent(m[3])]
            ? json(200, view(decodeURIComponent(m[3])))
            : json(404, { message: "Branch not found" });
        return json(200, Object.keys(heads).map(view));
      }
      m = /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(path);
      if (m && req.method === "POST") {
        if (!findRepo(tok.installationId, m[1]!, m[2]!)) return notFound();
        const body = await req.json();
        if (!["pending", "success", "failure", "error"].includes(body.state)) return json(422, { message: "Validation Failed" });
        fake.statuses.push({ repo: `${m[1]}/${m[2]}`, sha: m[3]!, body, token: bearer! });
        return json(201, {
          id: fake.statuses.length,
          state: body.state,
          target_url: body.target_url,
          description: body.description,
          context: body.context ?? "default",
          created_at: new Date().toISOString(),
        });
      }
      // POST /repos/{owner}/{repo}/issues/{n}/comments (a pull request is an issue) and PATCH …/issues/comments/{id}.
      m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(?:(\d+)\/comments|comments\/(\d+))$/.exec(path);
      if (m && ((m[3] && req.method === "POST") || (m[4] && req.method === "PATCH"))) {
        if (!findRepo(tok.installationId, m[1]!, m[2]!)) return notFound();
        const body = await req.json().catch(() => undefined);
        if (typeof body?.body !== "string" || body.body === "")
          return json(422, {
            message: "Validation Failed",
            errors: [{ resource: "IssueComment", code: "missing_field", field: "body" }],
          });
        const repo = `${m[1]}/${m[2]}`;
        let c = m[4] ? fake.comments.find((x) => x.id === Number(m![4]) && x.repo === repo) : undefined;
        if (m[4] && !c) return notFound();
        if (c) {
          c.body = body.body;
          c.edits++;
        } else {
          c = { id: 9_000_000 + fake.comments.length, repo, issue: Number(m[3]), body: body.body, edits: 0 };
          fake.comments.push(c);
        }
        const html = `https://github.com/${repo}/pull/${c.issue}#issuecomment-${c.id}`;
        return json(c.edits ? 200 : 201, {
          id: c.id,
          node_id: `IC_${c.id}`,
          url: `${fake.url}/repos/${repo}/issues/comments/${c.id}`,
          html_url: html,
          issue_url: `${fake.url}/repos/${repo}/issues/${c.issue}`,
          body: c.body,
          user: { login: "staxa[bot]", id: 41898282, type: "Bot" },
          author_association: "NONE",
          created_at: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
          updated_at: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
        });
      }
      return notFound();
    },
  });
  fake.url = `http://127.0.0.1:${server.port}`;
  return fake;
}
