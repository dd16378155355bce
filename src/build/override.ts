// staxa.json: the user's overrides (root, install, build, start, port, output), validated with errors naming the key.
import { BuildPlanError } from "./types.ts";
import { checkCommand } from "./command.ts";
import { RepoTree } from "./tree.ts";

export const OVERRIDE_FILE = "staxa.json";

export interface Override {
  /** Subdirectory holding the app (monorepos); the build context. */
  root?: string;
  install?: string;
  build?: string;
  start?: string;
  port?: number;
  /** Directory of a static build's output (e.g. "dist"), relative to root. */
  output?: string;
}

const KEYS = ["root", "install", "build", "start", "port", "output"] as const;
const fail = (key: string, msg: string): never => {
  throw new BuildPlanError(`${OVERRIDE_FILE}: "${key}" ${msg}`);
};

/** Reads and validates staxa.json at the repo root; {} when there is none. */
export function readOverride(repo: RepoTree): Override {
  if (repo.isLink(OVERRIDE_FILE) && !repo.isFile(OVERRIDE_FILE))
    throw new BuildPlanError(`${OVERRIDE_FILE} is a link pointing outside the repository`);
  const raw = repo.readJson(OVERRIDE_FILE);
  if (raw === undefined) return {};
  const out: Override = {};
  for (const key of Object.keys(raw)) {
    if (key === "$schema") continue;
    if (!(KEYS as readonly string[]).includes(key)) fail(key, `is not a known key (known: ${KEYS.join(", ")})`);
  }
  for (const key of ["install", "build", "start"] as const) {
    if (raw[key] !== undefined) out[key] = checkCommand(`${OVERRIDE_FILE}: "${key}"`, raw[key]);
  }
  if (raw.port !== undefined) {
    const p = raw.port;
    if (typeof p !== "number" || !Number.isInteger(p) || p < 1 || p > 65535)
      fail("port", "must be an integer between 1 and 65535");
    out.port = p as number;
  }
  if (raw.root !== undefined) out.root = checkDir(repo, "root", raw.root);
  if (raw.output !== undefined) out.output = checkSubPath("output", raw.output);
  return out;
}

// A relative path of plain segments: no "..", no absolute path, nothing a Dockerfile would read specially.
function checkSubPath(key: string, v: unknown): string {
  if (typeof v !== "string" || v.trim() === "") return fail(key, "must be a non-empty relative path");
  const path = v.replace(/^\.\//, "").replace(/\/+$/, "") || ".";
  if (path.startsWith("/")) fail(key, "must be relative to the repository, not an absolute path");
  if (path.split("/").includes("..")) fail(key, "must stay inside the repository (no '..')");
  if (!/^[A-Za-z0-9._\/@+-]+$/.test(path)) fail(key, "may contain only letters, digits and . _ / @ + -");
  return path;
}

// root must name a directory inside the repo after resolving links: a link out of the tree is refused.
function checkDir(repo: RepoTree, key: string, v: unknown): string {
  const path = checkSubPath(key, v);
  const abs = repo.resolve(path);
  if (abs === undefined)
    return fail(
      key,
      repo.escapes(path)
        ? `("${path}") resolves outside the repository through a link`
        : `("${path}") does not exist in the repository`,
    );
  if (!repo.isDir(path)) fail(key, "must be a directory, not a file");
  return repo.rel(abs) || ".";
}
