// A template's bundled files as a local git repo under <data dir>/templates: what the pipeline clones instead of the
// catalog's URL, so a template deploys with no network. One commit on main with a fixed author and date, so the
// same files give the same commit id on every server; the directory is named by the files' hash, so a new binary
// with changed templates makes a new repo and never rewrites one a deployment may be cloning.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { runGit } from "./git-run.ts";

/** Where the template repos live; git.ts allows file:// clones from here only (whatever STAXA_ALLOW_FILE_REPOS says). */
export const templateReposDir = (dataDir: string): string => resolve(dataDir, "templates");

/** The directory of `url` when it is file:// of a repo under the template repos directory; else undefined. */
export function ownTemplateRepo(dataDir: string, url: string): string | undefined {
  const m = /^file:\/\/(\/[^?#]*)$/.exec(url);
  if (!m) return undefined;
  const path = resolve(decodeURIComponent(m[1]));
  return path.startsWith(templateReposDir(dataDir) + sep) && !path.includes("\0") ? path : undefined;
}

/** The repo holding `files` (path → bytes) for template `id`, created on first use; returns its absolute path. */
export async function templateRepo(dataDir: string, id: string, files: Map<string, Uint8Array>): Promise<string> {
  if (!/^[a-z0-9_]{1,64}$/.test(id)) throw new Error(`bad template id ${JSON.stringify(id)}`);
  const dir = join(templateReposDir(dataDir), `${id}-${filesHash(files)}`);
  if (existsSync(join(dir, ".git"))) return dir;
  mkdirSync(templateReposDir(dataDir), { recursive: true, mode: 0o700 });
  // Built aside and renamed into place: a deployment never clones a half-written repo.
  const tmp = mkdtempSync(join(templateReposDir(dataDir), `.${id}-`));
  try {
    for (const [rel, bytes] of files) {
      const target = resolve(tmp, rel);
      if (!target.startsWith(tmp + sep)) throw new Error(`template file ${rel} is outside its directory`);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, bytes);
    }
    const env = {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: tmp,
      LANG: "C",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_AUTHOR_NAME: "Staxa",
      GIT_AUTHOR_EMAIL: "templates@staxa.invalid",
      GIT_AUTHOR_DATE: "2024-01-01T00:00:00Z",
      GIT_COMMITTER_NAME: "Staxa",
      GIT_COMMITTER_EMAIL: "templates@staxa.invalid",
      GIT_COMMITTER_DATE: "2024-01-01T00:00:00Z",
    };
    const git = (args: string[], failure: string) =>
      runGit(["-c", "core.hooksPath=/dev/null", "-c", "commit.gpgSign=false", "-C", tmp, ...args], {
        env,
        deadline: Date.now() + 60_000,
        secrets: [],
        onLog: () => {},
        failure,
      });
    await git(["init", "-q", "-b", "main"], "git init of the template repo failed");
    await git(["add", "-A"], "git add of the template files failed");
    await git(["commit", "-q", "-m", `Staxa template ${id}`], "git commit of the template files failed");
    try {
      renameSync(tmp, dir);
    } catch (e) {
      if (!existsSync(join(dir, ".git"))) throw e; // else another deployment made the same repo first
    }
    return dir;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** sha-256 of every path and content, in path order: the repo's identity. */
function filesHash(files: Map<string, Uint8Array>): string {
  const h = createHash("sha256");
  for (const p of [...files.keys()].sort()) h.update(`${p}\0${files.get(p)!.byteLength}\0`).update(files.get(p)!);
  return h.digest("hex").slice(0, 16);
}
