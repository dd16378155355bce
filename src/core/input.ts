// Validation of everything a tenant request carries, once, at the edge, to the narrowest form.
// Each value later reaches git, Docker, Caddy or a DNS name: refusing here is the defence.
import { Invalid } from "../lib/errors.ts";
import { IMAGE_REF_RE, isOwnBuild } from "../lib/image-ref.ts";
import { validateBranch, validateCommitSha, validateRepoUrl } from "../build/git-input.ts";
import { RESOURCE_SIZES, type ResourceSize } from "./resources.ts";

/** Names that would shadow the appliance's own hosts. */
export const RESERVED_NAMES = new Set([
  "api",
  "www",
  "admin",
  "dashboard",
  "staxa",
  "app",
  "apps",
  "mail",
  "smtp",
  "ftp",
  "ns",
  "ns1",
  "ns2",
  "dns",
  "cdn",
  "static",
  "assets",
  "status",
  "docs",
  "help",
  "support",
  "root",
  "localhost",
  "caddy",
  "docker",
  "registry",
  "git",
  "console",
  "auth",
  "login",
  "billing",
  "internal",
  "system",
]);

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const HAS_CONTROL_OR_SPACE = /[\s\x00-\x1f\x7f]/;
const SHELL_CHARS = /[;$`|&<>(){}'"\\!*?\[\]~^]/;

/** A tenant name: a DNS label (a-z, 0-9, '-'; 1-63; no leading/trailing '-'), not reserved. */
export function tenantName(v: unknown, field = "name"): string {
  if (typeof v !== "string" || v.length === 0) throw new Invalid(field, `${field} is required`);
  if (v.length > 63) throw new Invalid(field, `${field} must be at most 63 characters`);
  if (!LABEL.test(v))
    throw new Invalid(field, `${field} must be a DNS label: lower-case letters, digits and '-', not starting or ending with '-'`);
  if (RESERVED_NAMES.has(v)) throw new Invalid(field, `${field} "${v}" is reserved`);
  return v;
}

/** A service name: a DNS label too (it becomes a container alias and a host part). */
export function serviceName(v: unknown, field = "name"): string {
  if (typeof v !== "string" || v.length === 0) throw new Invalid(field, `${field} is required`);
  if (v.length > 30 || !LABEL.test(v))
    throw new Invalid(field, `${field} must be a DNS label of at most 30 characters (a-z, 0-9, '-')`);
  return v;
}

/**
 * A git URL, checked by the same rules the clone applies (src/build/git-input.ts), so the API refuses at once
 * what the build would refuse later; `field` names where it came from (e.g. services[1].repo_url).
 */
export function repoUrl(
  v: unknown,
  config: { allowFileRepos: boolean; allowPrivateTargets: boolean },
  field = "repo_url",
): string {
  try {
    // file:// only where the operator allows local repos; plain http only where private targets are allowed (labs)
    return validateRepoUrl(v, { allowFile: config.allowFileRepos, allowHttp: config.allowPrivateTargets }).url;
  } catch (e) {
    if (e instanceof Invalid && field !== "repo_url") throw new Invalid(field, e.message.replace(/^repo_url/, field));
    throw e;
  }
}

/** A branch name per git's ref-name rules, and nothing a shell or an option parser would read. */
export const branch = validateBranch;

/** A commit id: 7 to 64 hex characters (sha-1 or sha-256), lower-cased. */
export const commitSha = validateCommitSha;

/** A Docker image reference (no shell characters, no leading '-'). */
export function imageRef(v: unknown, field = "image_url"): string {
  if (typeof v !== "string" || v.length === 0) throw new Invalid(field, `${field} is required`);
  if (v.length > 512 || v.startsWith("-") || SHELL_CHARS.test(v) || HAS_CONTROL_OR_SPACE.test(v) || !IMAGE_REF_RE.test(v)) {
    throw new Invalid(field, `${field} must be a Docker image reference such as registry.example.com/team/app:1.2`);
  }
  // staxa/… are this server's own builds, each one provider's code: never another tenant's image source (nor its cleanup's).
  if (isOwnBuild(v)) throw new Invalid(field, `${field}: the staxa/ namespace holds this server's own builds`);
  // The daemon reads a bare hex string (any length) or `sha256:<hex>` as an image id prefix: any image on this server.
  if (/^(sha256:)?[0-9a-f]+$/i.test(v))
    throw new Invalid(field, `${field} names an image by id; name it by reference (registry/name:tag)`);
  return v;
}

export function resourceSize(v: unknown, field = "resource_size"): ResourceSize {
  if (typeof v !== "string" || !(v in RESOURCE_SIZES))
    throw new Invalid(field, `${field} must be one of: ${Object.keys(RESOURCE_SIZES).join(", ")}`);
  return v as ResourceSize;
}

export function port(v: unknown, field = "app_port"): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 65535)
    throw new Invalid(field, `${field} must be an integer between 1 and 65535`);
  return v;
}

export function egressMode(v: unknown, field = "egress_mode"): "open" | "restricted" {
  if (v !== "open" && v !== "restricted") throw new Invalid(field, `${field} must be "open" or "restricted"`);
  return v;
}

export function displayName(v: unknown, field = "display_name"): string | null {
  if (v === null) return null;
  if (typeof v !== "string" || v.length > 200 || /[\x00-\x1f\x7f]/.test(v))
    throw new Invalid(field, `${field} must be a string of at most 200 printable characters`);
  return v;
}

export function sourceType(v: unknown, field = "source_type"): "github" | "image" {
  if (v !== "github" && v !== "image") throw new Invalid(field, `${field} must be "github" or "image"`);
  return v;
}
