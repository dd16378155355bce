// Real git against local bare repos: branches, exact commits, payloads that must create no marker, symlinks, tokens.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGit } from "../../src/build/git.ts";
import { loadConfig } from "../../src/config.ts";
import { Invalid, Upstream } from "../../src/lib/errors.ts";

const root = mkdtempSync(join(tmpdir(), "staxa-git-e2e-"));
const marker = join(root, "marker");
const bare = join(root, "origin.git");
const work = join(root, "work");
const shas: Record<string, string> = {};
let n = 0;

const env = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@t",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@t",
};
function sh(args: string[], cwd = work): string {
  const r = Bun.spawnSync(["git", ...args], { cwd, env, stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString().trim();
}
const gitWith = (env: Record<string, string> = {}) =>
  createGit(loadConfig({ STAXA_DATA_DIR: root, STAXA_ALLOW_FILE_REPOS: "1", ...env }));
const fileGit = gitWith();
const dest = () => join(root, `clone-${++n}`);
const logs: string[] = [];
const req = (over: Record<string, unknown>) => ({
  repoUrl: `file://${bare}`,
  branch: "main",
  dir: dest(),
  timeoutMs: 30_000,
  onLog: (l: string) => logs.push(l),
  ...over,
});

beforeAll(() => {
  sh(["init", "--bare", "-b", "main", bare], root);
  sh(["init", "-b", "main", work], root);
  writeFileSync(join(work, "app.txt"), "first\n");
  symlinkSync("/etc/passwd", join(work, "passwd-link"));
  symlinkSync("/etc/shadow", join(work, "Dockerfile"));
  sh(["add", "-A"]);
  sh(["commit", "-m", "first"]);
  shas.first = sh(["rev-parse", "HEAD"]);
  for (let i = 0; i < 55; i++) sh(["commit", "--allow-empty", "-m", `filler ${i}`]);
  writeFileSync(join(work, "app.txt"), "main head\n");
  sh(["commit", "-am", "main head"]);
  shas.main = sh(["rev-parse", "HEAD"]);
  sh(["checkout", "-b", "feature"]);
  writeFileSync(join(work, "app.txt"), "feature\n");
  sh(["commit", "-am", "feature"]);
  shas.feature = sh(["rev-parse", "HEAD"]);
  sh(["push", bare, "main", "feature"]);
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("clone", () => {
  test("a branch, returning the checked-out commit", async () => {
    const r = req({});
    expect(await fileGit.clone(r)).toEqual({ commitSha: shas.main! });
    expect(readFileSync(join(r.dir, "app.txt"), "utf8")).toBe("main head\n");
    expect(sh(["rev-list", "--count", "HEAD"], r.dir)).toBe("50");
  }, 30_000);

  test("another branch", async () => {
    const r = req({ branch: "feature" });
    expect(await fileGit.clone(r)).toEqual({ commitSha: shas.feature! });
    expect(readFileSync(join(r.dir, "app.txt"), "utf8")).toBe("feature\n");
  }, 30_000);

  test("an exact commit older than the shallow history", async () => {
    const r = req({ commitSha: shas.first!.toUpperCase() });
    expect(await fileGit.clone(r)).toEqual({ commitSha: shas.first! });
    expect(readFileSync(join(r.dir, "app.txt"), "utf8")).toBe("first\n");
  }, 30_000);

  test("an exact commit that only another branch holds", async () => {
    expect(await fileGit.clone(req({ commitSha: shas.feature }))).toEqual({ commitSha: shas.feature! });
  }, 30_000);

  test("an unknown commit fails clearly", async () => {
    const err = await fileGit.clone(req({ commitSha: "0".repeat(40) })).catch((e) => e);
    expect(err).toBeInstanceOf(Upstream);
    expect(err.message).toContain("was not found");
  }, 30_000);

  test("an unknown branch fails clearly", async () => {
    const err = await fileGit.clone(req({ branch: "nope" })).catch((e) => e);
    expect(err).toBeInstanceOf(Upstream);
    expect(err.message).toContain("nope");
  }, 30_000);

  test("symlinks are checked out as plain files: nothing outside the tree is followed", async () => {
    const r = req({});
    await fileGit.clone(r);
    for (const [name, target] of [
      ["passwd-link", "/etc/passwd"],
      ["Dockerfile", "/etc/shadow"],
    ] as const) {
      expect(lstatSync(join(r.dir, name)).isSymbolicLink()).toBe(false);
      expect(readFileSync(join(r.dir, name), "utf8")).toBe(target);
    }
  }, 30_000);
});

describe("payloads create no marker file", () => {
  const urls = [
    `--upload-pack=touch ${marker}`,
    `--upload-pack=touch${marker}`,
    `ext::sh -c touch% ${marker}`,
    `ext::sh%20-c%20touch%20${marker}`,
    "-u./payload",
    `ssh://-oProxyCommand=touch ${marker}/x`,
    `ssh://-oProxyCommand=touch${marker}/x`,
    `file://${bare}%0a`,
    `fd::3`,
  ];
  for (const repoUrl of urls) {
    test(`repo_url ${repoUrl}`, async () => {
      const err = await fileGit.clone(req({ repoUrl })).catch((e) => e);
      expect(err).toBeInstanceOf(Invalid);
      expect(err.details.field).toBe("repo_url");
      expect(existsSync(marker)).toBe(false);
    });
  }
  const branches = [
    `--output=${marker}`,
    `main; touch ${marker}`,
    `$(touch ${marker})`,
    `\`touch ${marker}\``,
    `main\ntouch ${marker}`,
    "-btest",
  ];
  for (const branch of branches) {
    test(`branch ${JSON.stringify(branch)}`, async () => {
      const err = await fileGit.clone(req({ branch })).catch((e) => e);
      expect(err).toBeInstanceOf(Invalid);
      expect(err.details.field).toBe("branch");
      expect(existsSync(marker)).toBe(false);
    });
  }
  test("commit_sha payload", async () => {
    const err = await fileGit.clone(req({ commitSha: `--output=${marker}` })).catch((e) => e);
    expect(err.details.field).toBe("commit_sha");
    expect(existsSync(marker)).toBe(false);
  });
});

describe("settings and secrets", () => {
  test("file:// is refused when not allowed", async () => {
    const git = createGit(loadConfig({ STAXA_DATA_DIR: root }));
    const err = await git.clone(req({})).catch((e) => e);
    expect(err).toBeInstanceOf(Invalid);
    expect(err.message).toContain("file://");
  });

  test("private hosts are refused unless allowed", async () => {
    const git = createGit(loadConfig({ STAXA_DATA_DIR: root }));
    const err = await git.clone(req({ repoUrl: "https://127.0.0.1:1/a.git" })).catch((e) => e);
    expect(err).toBeInstanceOf(Invalid);
    expect(err.message).toContain("private");
  });

  test("a token is sent as a header, never stored in .git/config, never logged or thrown", async () => {
    const token = "ghs_SECRETtoken1234567890";
    const seen: string[] = [];
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (r) => {
        seen.push(r.headers.get("authorization") ?? "");
        return new Response("no", { status: 404 });
      },
    });
    try {
      const git = gitWith({ STAXA_ALLOW_PRIVATE_TARGETS: "1" });
      const lines: string[] = [];
      const err = await git
        .clone({ ...req({}), repoUrl: `http://127.0.0.1:${server.port}/a.git`, token, onLog: (l) => lines.push(l) })
        .catch((e) => e);
      expect(err).toBeInstanceOf(Upstream);
      expect(seen).toContain(`Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`);
      const b64 = Buffer.from(`x-access-token:${token}`).toString("base64");
      for (const text of [err.message, JSON.stringify(err.details), ...lines]) {
        expect(text).not.toContain(token);
        expect(text).not.toContain(b64);
      }
    } finally {
      server.stop(true);
    }
    const r = req({ token });
    const lines: string[] = [];
    await fileGit.clone({ ...r, onLog: (l) => lines.push(l) });
    expect(readFileSync(join(r.dir, ".git/config"), "utf8")).not.toContain(token);
    expect(lines.join("\n")).not.toContain(token);
  }, 30_000);

  test("a hanging server is killed at the timeout", async () => {
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Promise<Response>(() => {}) });
    try {
      const git = gitWith({ STAXA_ALLOW_PRIVATE_TARGETS: "1" });
      const t0 = Date.now();
      const err = await git
        .clone({ ...req({}), repoUrl: `http://127.0.0.1:${server.port}/a.git`, timeoutMs: 1500 })
        .catch((e) => e);
      expect(err).toBeInstanceOf(Upstream);
      expect(err.message).toContain("timed out");
      expect(Date.now() - t0).toBeLessThan(6000);
    } finally {
      server.stop(true);
    }
  }, 15_000);
});
