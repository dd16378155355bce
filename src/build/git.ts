// Safe git clone: argv arrays, `--` before user values, locked-down protocols, scratch HOME, timeout, redacted logs.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../config.ts";
import type { CloneRequest, Git } from "./types.ts";
import { Upstream } from "../lib/errors.ts";
import { validateBranch, validateCommitSha, validateRepoUrl, type RepoUrl } from "./git-input.ts";
import { assertPublicHost } from "./git-host.ts";
import { runGit, type GitRun } from "./git-run.ts";
import { ownTemplateRepo } from "./template-repo.ts";

export { validateBranch, validateCommitSha, validateRepoUrl } from "./git-input.ts";

const DEPTH = "50";

/** The real Git: validates every input again (defence in depth), then clones with the system git. */
export function createGit(config: Config): Git {
  return {
    async clone(req: CloneRequest) {
      // The appliance's own template repos (template-repo.ts) are file:// under the data dir: allowed whatever
      // STAXA_ALLOW_FILE_REPOS says, since no user can name them (the API refuses file:// URLs then).
      const own = ownTemplateRepo(config.dataDir, req.repoUrl) !== undefined;
      const allowFile = config.allowFileRepos || own;
      const repo = validateRepoUrl(req.repoUrl, { allowFile, allowHttp: config.allowPrivateTargets });
      const branch = validateBranch(req.branch);
      const sha = req.commitSha === undefined ? undefined : validateCommitSha(req.commitSha);
      if (!config.allowPrivateTargets && !own) await assertPublicHost(repo.host);
      const home = await mkdtemp(join(tmpdir(), "staxa-git-home-"));
      try {
        const run = runner(req, repo, home, allowFile);
        await cloneBranch(run, req, repo, branch);
        if (sha !== undefined) await checkoutCommit(run, req.dir, sha);
        const head = (await run(["-C", req.dir, "rev-parse", "HEAD"], "rev-parse failed")).trim();
        req.onLog(`checked out ${head}`);
        return { commitSha: head };
      } finally {
        await rm(home, { recursive: true, force: true });
      }
    },
  };
}

/** `-c` flags given to every git command: they never land in .git/config, so each command repeats them. */
export function safeFlags(allowFile: boolean): string[] {
  return [
    "-c",
    "core.symlinks=false",
    "-c",
    `protocol.file.allow=${allowFile ? "always" : "never"}`,
    "-c",
    "protocol.ext.allow=never",
    "-c",
    "credential.helper=",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "submodule.recurse=false",
  ];
}

/** The clone subcommand as data (tested with toEqual); the runner prepends safeFlags. `full`: no --depth. */
export function cloneArgs(repo: RepoUrl, branch: string, dir: string, full = false): string[] {
  return [
    "clone",
    "--no-recurse-submodules",
    "--single-branch",
    "--branch",
    branch,
    ...(full ? [] : ["--depth", DEPTH]),
    "--",
    repo.url,
    dir,
  ];
}

/**
 * What git says when the server cannot serve a shallow clone: a dumb HTTP server (static files) never can
 * ("dumb http transport does not support shallow capabilities"), and some old smart servers refuse it.
 */
export function isShallowRefused(e: unknown): boolean {
  return e instanceof Upstream && /does not support shallow|shallow capabilit/i.test(e.message);
}

// A shallow clone first (fast); a server that cannot serve one gets a full clone of the branch instead.
async function cloneBranch(run: GitRun, req: CloneRequest, repo: RepoUrl, branch: string): Promise<void> {
  const failure = `clone of branch "${branch}" failed`;
  try {
    await run(cloneArgs(repo, branch, req.dir), failure);
  } catch (e) {
    if (!isShallowRefused(e)) throw e;
    req.onLog("the git server does not support shallow clones (dumb HTTP?): cloning the branch's full history");
    await rm(req.dir, { recursive: true, force: true }); // whatever the refused clone left behind
    await run(cloneArgs(repo, branch, req.dir, true), failure);
  }
}

/** Environment of every git process: built from nothing, so the parent's GIT_* cannot leak in. */
export function gitEnv(home: string, allowFile: boolean, authHeader?: { key: string; value: string }): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    LANG: "C",
    GIT_ALLOW_PROTOCOL: allowFile ? "https:ssh:file" : "https:ssh",
    GIT_PROTOCOL_FROM_USER: "0",
    GIT_TERMINAL_PROMPT: "0",
    // Answers every credential question with failure instead of a prompt.
    GIT_ASKPASS: "/bin/false",
    SSH_ASKPASS: "/bin/false",
    SSH_ASKPASS_REQUIRE: "never",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_SSH_COMMAND: `ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o ConnectTimeout=30 -o UserKnownHostsFile=${home}/known_hosts`,
  };
  for (const k of ["http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"]) {
    const v = process.env[k];
    if (v) env[k] = v;
  }
  if (authHeader) {
    env.GIT_CONFIG_COUNT = "1";
    env.GIT_CONFIG_KEY_0 = authHeader.key;
    env.GIT_CONFIG_VALUE_0 = authHeader.value;
  }
  return env;
}

/** The token travels as an http.extraHeader scoped to the repo's origin, via environment (never argv or .git/config). */
export function authHeaderFor(repo: RepoUrl, token: string): { key: string; value: string } {
  if (/[\x00-\x1f\x7f\s]/.test(token)) throw new Upstream("git", "the access token is malformed");
  const origin = new URL(repo.url).origin;
  const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
  return { key: `http.${origin}/.extraHeader`, value: `Authorization: Basic ${basic}` };
}

function runner(req: CloneRequest, repo: RepoUrl, home: string, allowFile: boolean): GitRun {
  const useToken = req.token !== undefined && req.token !== "" && (repo.scheme === "https" || repo.scheme === "http");
  const header = useToken ? authHeaderFor(repo, req.token!) : undefined;
  const env = gitEnv(home, allowFile, header);
  // http:// passed validation only because STAXA_ALLOW_PRIVATE_TARGETS allows it; git must allow it too.
  if (repo.scheme === "http") env.GIT_ALLOW_PROTOCOL += ":http";
  const secrets = header ? [req.token!, header.value, header.value.slice("Authorization: Basic ".length)] : [];
  const deadline = Date.now() + req.timeoutMs;
  const flags = safeFlags(allowFile);
  return (args, failure, quiet = false) =>
    runGit([...flags, ...args], { env, deadline, secrets, onLog: quiet ? () => {} : req.onLog, failure });
}

// The commit may be outside the shallow history: ask for it by id, then fall back to the whole history.
async function checkoutCommit(run: GitRun, dir: string, sha: string): Promise<void> {
  const git = (...args: string[]) => ["-C", dir, ...args];
  const has = async () =>
    run(git("cat-file", "-e", `${sha}^{commit}`), "", true).then(
      () => true,
      () => false,
    );
  if (!(await has())) await run(git("fetch", "--depth", DEPTH, "--", "origin", sha), "", true).catch(() => undefined);
  if (!(await has())) {
    await run(
      git("fetch", "--unshallow", "--", "origin", "+refs/heads/*:refs/remotes/origin/*"),
      "fetching the full history failed",
    ).catch(() => run(git("fetch", "--", "origin", "+refs/heads/*:refs/remotes/origin/*"), "fetching the full history failed"));
  }
  if (!(await has())) throw new Upstream("git", `commit ${sha} was not found in the repository`);
  await run(git("checkout", "--detach", sha, "--"), `checkout of commit ${sha} failed`);
}
