// Real git against a dumb HTTP server (static files of a bare repo, served on loopback): the shallow clone is
// refused by the transport, and the clone falls back to the branch's full history (issue 19 point 9).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, normalize } from "node:path";
import { createGit } from "../../src/build/git.ts";
import { loadConfig } from "../../src/config.ts";

const root = mkdtempSync(join(tmpdir(), "staxa-git-dumb-"));
const bare = join(root, "srv", "origin.git");
const work = join(root, "work");
const shas: Record<string, string> = {};
const env = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@t",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@t",
};
function sh(args: string[], cwd = work): { code: number; out: string; err: string } {
  const r = Bun.spawnSync(["git", ...args], { cwd, env, stderr: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString().trim(), err: r.stderr.toString() };
}
// The server runs in this process: a command that talks to it must not block the event loop (spawnSync would hang).
async function shAsync(args: string[], cwd: string): Promise<{ code: number; err: string }> {
  const p = Bun.spawn(["git", ...args], { cwd, env, stdout: "ignore", stderr: "pipe" });
  const err = await new Response(p.stderr).text();
  return { code: await p.exited, err };
}
function ok(args: string[], cwd = work): string {
  const r = sh(args, cwd);
  if (r.code !== 0) throw new Error(`git ${args.join(" ")}: ${r.err}`);
  return r.out;
}

// A dumb HTTP git server is nothing but the bare repo's files: GET only, no CGI, no smart protocol.
const served: string[] = [];
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req) {
    const path = normalize(decodeURIComponent(new URL(req.url).pathname));
    served.push(path);
    const file = join(root, "srv", path);
    if (req.method !== "GET" || !file.startsWith(join(root, "srv") + "/") || !existsSync(file) || !statSync(file).isFile())
      return new Response("not found\n", { status: 404 });
    return new Response(Bun.file(file), { headers: { "content-type": "application/octet-stream" } });
  },
});
const url = `http://127.0.0.1:${server.port}/origin.git`;
const git = createGit(loadConfig({ STAXA_DATA_DIR: root, STAXA_ALLOW_PRIVATE_TARGETS: "1" }));
const logs: string[] = [];
let n = 0;
const req = (over: Record<string, unknown> = {}) => ({
  repoUrl: url,
  branch: "main",
  dir: join(root, `clone-${++n}`),
  timeoutMs: 60_000,
  onLog: (l: string) => logs.push(l),
  ...over,
});

beforeAll(() => {
  ok(["init", "--bare", "-b", "main", bare], root);
  ok(["init", "-b", "main", work], root);
  writeFileSync(join(work, "app.txt"), "first\n");
  ok(["add", "-A"]);
  ok(["commit", "-m", "first"]);
  shas.first = ok(["rev-parse", "HEAD"]);
  for (let i = 0; i < 55; i++) ok(["commit", "--allow-empty", "-m", `filler ${i}`]);
  writeFileSync(join(work, "app.txt"), "main head\n");
  ok(["commit", "-am", "main head"]);
  shas.main = ok(["rev-parse", "HEAD"]);
  ok(["checkout", "-b", "feature"]);
  writeFileSync(join(work, "app.txt"), "feature\n");
  ok(["commit", "-am", "feature"]);
  shas.feature = ok(["rev-parse", "HEAD"]);
  ok(["push", bare, "main", "feature"]);
  ok(["update-server-info"], bare); // what makes a bare repo servable as static files
}, 60_000);
afterAll(() => {
  server.stop(true);
  rmSync(root, { recursive: true, force: true });
});

describe("a git server without shallow support (dumb HTTP)", () => {
  test("the server really refuses shallow clones", async () => {
    const r = await shAsync(["clone", "--depth", "1", "--", url, join(root, "plain-shallow")], root);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("dumb http transport does not support shallow capabilities");
  });

  test("the clone falls back to the branch's full history and checks out its head", async () => {
    const r = req();
    expect(await git.clone(r)).toEqual({ commitSha: shas.main! });
    expect(readFileSync(join(r.dir, "app.txt"), "utf8")).toBe("main head\n");
    expect(sh(["rev-list", "--count", "HEAD"], r.dir).out).toBe("57");
    expect(logs.some((l) => l.includes("does not support shallow clones"))).toBe(true);
    expect(served.some((p) => p.includes("/objects/"))).toBe(true); // fetched as static files
  }, 60_000);

  test("another branch and an exact commit work the same way", async () => {
    expect(await git.clone(req({ branch: "feature" }))).toEqual({ commitSha: shas.feature! });
    const r = req({ commitSha: shas.first });
    expect(await git.clone(r)).toEqual({ commitSha: shas.first! });
    expect(readFileSync(join(r.dir, "app.txt"), "utf8")).toBe("first\n");
  }, 60_000);

  test("an unknown branch still fails clearly, once", async () => {
    const before = logs.filter((l) => l.includes("does not support shallow clones")).length;
    await expect(git.clone(req({ branch: "nope" }))).rejects.toThrow(/clone of branch "nope" failed/);
    // The branch is missing whatever the depth: the fallback runs (the shallow attempt is refused first), and fails too.
    expect(logs.filter((l) => l.includes("does not support shallow clones")).length).toBeLessThanOrEqual(before + 1);
  }, 60_000);
});
