// Validation of everything a user gives git (repo URL, branch, commit): refuse, never quote.
import { Invalid } from "../lib/errors.ts";

export interface RepoUrlOptions {
  /** file:// repos (tests and labs only: STAXA_ALLOW_FILE_REPOS). */
  allowFile?: boolean;
  /** http:// repos (plain text; only with STAXA_ALLOW_PRIVATE_TARGETS). */
  allowHttp?: boolean;
}

/** A validated repo URL, split so callers never re-parse it. */
export interface RepoUrl {
  url: string;
  scheme: "https" | "http" | "ssh" | "file";
  /** Host name or IP literal (without brackets); "" for file://. */
  host: string;
}

const CONTROL_OR_SPACE = /[\x00-\x20\x7f]/;
// Percent-encoded control characters (%0a, %00, %1b...) turn into newlines inside git's own parsing.
const ENCODED_CONTROL = /%(?:[01][0-9a-f]|7f)/i;
// Characters a shell, an ssh option or a ref parser would treat specially: not in a repo URL.
const SHELLISH = /[;$`|&()<>'"\\{}\[\]!*?^]/;
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const USER = /^[a-z0-9_][a-z0-9._-]{0,63}$/i;
const PATH = /^[A-Za-z0-9._~\/%+@:=,-]*$/;

const bad = (message: string): never => {
  throw new Invalid("repo_url", message);
};

/**
 * Checks a repo URL: https, ssh://, http/file only when allowed. Errors never echo the URL. The scp-like
 * form (git@host:path) is refused: it is ssh, and this server holds no ssh key to clone with, so such a
 * repo would pass here and fail only at build time.
 */
export function validateRepoUrl(raw: unknown, opts: RepoUrlOptions = {}): RepoUrl {
  if (typeof raw !== "string" || raw.length === 0) return bad("repo_url is required");
  if (raw.length > 2048) return bad("repo_url is longer than 2048 characters");
  if (CONTROL_OR_SPACE.test(raw)) return bad("repo_url must not contain whitespace or control characters");
  if (ENCODED_CONTROL.test(raw)) return bad("repo_url must not contain encoded control characters (%0a, %00, ...)");
  if (raw.startsWith("-")) return bad("repo_url must not start with '-'");
  if (/^[a-z0-9+.-]*::/i.test(raw))
    return bad("repo_url uses a git remote helper (transport::address); only https and ssh are allowed");
  if (SHELLISH.test(raw.replace(/^[a-z]+:\/\/\[[0-9a-f:.]+\]/i, "")))
    return bad("repo_url contains characters that are not allowed in a repo URL");

  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1]?.toLowerCase();
  if (scheme === undefined) return scpForm(raw);
  if (scheme === "file") return fileUrl(raw, opts);
  if (scheme === "http" && !opts.allowHttp) return bad("http:// repos are not allowed; use https:// or ssh");
  if (scheme !== "https" && scheme !== "ssh" && scheme !== "http") {
    return bad(`repo_url scheme "${scheme}" is not allowed; use https://`);
  }
  return authorityUrl(raw, scheme);
}

function authorityUrl(raw: string, scheme: "https" | "http" | "ssh"): RepoUrl {
  const m = /^[a-z]+:\/\/([^/]*)(\/.*)?$/i.exec(raw);
  if (!m) return bad("repo_url is not a valid URL");
  const authority = m[1]!;
  const path = m[2] ?? "";
  const at = authority.lastIndexOf("@");
  const userinfo = at >= 0 ? authority.slice(0, at) : undefined;
  const hostport = at >= 0 ? authority.slice(at + 1) : authority;
  if (userinfo !== undefined) {
    if (scheme !== "ssh" || userinfo.includes(":"))
      return bad("repo_url must not embed credentials; connect a GitHub installation or use a deploy key");
    if (!USER.test(userinfo)) return bad("repo_url has an invalid user name");
  }
  const hp = /^(\[[0-9a-f:.]+\]|[^:]*)(?::(\d{1,5}))?$/i.exec(hostport);
  if (!hp) return bad("repo_url has an invalid host or port");
  const host = hp[1]!.replace(/^\[|\]$/g, "");
  if (host.startsWith("-")) return bad("repo_url host must not start with '-'");
  if (!hp[1]!.startsWith("[") && !HOSTNAME.test(host)) return bad("repo_url has an invalid host name");
  if (hp[2] !== undefined && (Number(hp[2]) < 1 || Number(hp[2]) > 65535))
    return bad("repo_url port must be between 1 and 65535");
  checkPath(path, true);
  return { url: raw, scheme, host: host.toLowerCase() };
}

// scp-like form (user@host:path): git clones it over ssh, with a key this server does not have.
function scpForm(raw: string): RepoUrl {
  if (!/^[^@/:]+@[^:/]+:.+$/.test(raw)) return bad("repo_url must be an https:// URL (e.g. https://github.com/owner/repo.git)");
  return bad(
    "repo_url in the scp-like ssh form (git@host:owner/repo.git) cannot be cloned here: this server holds no ssh key. Use the https:// URL (https://host/owner/repo.git); for a private GitHub repo, connect the GitHub App",
  );
}

function fileUrl(raw: string, opts: RepoUrlOptions): RepoUrl {
  if (!opts.allowFile) return bad("file:// repos are not allowed on this server");
  const m = /^file:\/\/(?:localhost)?(\/.*)$/i.exec(raw);
  if (!m) return bad("file:// repo URLs must be absolute (file:///path/to/repo)");
  checkPath(m[1]!, true);
  return { url: raw, scheme: "file", host: "" };
}

function checkPath(path: string, needsSlash: boolean): void {
  if (needsSlash && path !== "" && !path.startsWith("/")) bad("repo_url path must start with '/'");
  if (!PATH.test(path)) bad("repo_url path contains characters that are not allowed");
  if (path.split("/").some((seg) => seg.startsWith("-"))) bad("repo_url path segments must not start with '-'");
}

const REF_CHARS = /^[A-Za-z0-9._\/+@=,#-]+$/;

/** Checks a branch name: git check-ref-format rules, and nothing a shell or option parser could read. */
export function validateBranch(raw: unknown, field = "branch"): string {
  const fail = (message: string): never => {
    throw new Invalid(field, `${field} ${message}`);
  };
  if (typeof raw !== "string" || raw.length === 0) return fail("must be a non-empty string");
  if (raw.length > 255) return fail("is longer than 255 characters");
  if (raw.startsWith("-")) return fail("must not start with '-'");
  if (!REF_CHARS.test(raw)) return fail("may contain only letters, digits and . _ / + @ = , # -");
  if (raw.includes("..")) return fail("must not contain '..'");
  if (raw.includes("@{") || raw === "@") return fail("must not be '@' or contain '@{'");
  if (raw.includes("//") || raw.startsWith("/") || raw.endsWith("/"))
    return fail("must not start or end with '/' or contain '//'");
  if (raw.endsWith(".")) return fail("must not end with '.'");
  for (const part of raw.split("/")) {
    if (part.startsWith(".")) return fail("components must not start with '.'");
    if (part.endsWith(".lock")) return fail("components must not end with '.lock'");
    if (part.startsWith("-")) return fail("components must not start with '-'");
  }
  return raw;
}

/** Checks a commit id: 7 to 64 hex digits (sha-1 or sha-256), returned lower-case. */
export function validateCommitSha(raw: unknown, field = "commit_sha"): string {
  if (typeof raw !== "string" || !/^[0-9a-f]{7,64}$/i.test(raw)) {
    throw new Invalid(field, `${field} must be a hex commit id (7 to 64 characters)`);
  }
  return raw.toLowerCase();
}
