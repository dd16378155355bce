// Validation of the service definitions of a tenant (single-service body or services[]), into insertable rows.
import type { Config } from "../config.ts";
import type { ServiceRow } from "../store/services.ts";
import { Invalid } from "../lib/errors.ts";
import { newId } from "../lib/ids.ts";
import * as input from "./tenant-input.ts";
import { validateEnv } from "./env-vars.ts";

export interface ServiceDraft {
  row: Omit<ServiceRow, "tenant_id" | "created_at" | "updated_at" | "env_enc">;
  env: Record<string, string>;
}

type Body = Record<string, unknown>;

/** One service from a body (`prefix` names fields in errors, e.g. "services[1]."). */
export function parseService(config: Config, b: Body, o: { name: string; prefix: string; portField: string; defaults: { routable: boolean; primary: boolean; size?: string } }): ServiceDraft {
  const f = (k: string) => `${o.prefix}${k}`;
  const source = input.sourceType(b.source_type, f("source_type"));
  let repo: string | null = null;
  let image: string | null = null;
  if (source === "github") {
    repo = input.repoUrl(b.repo_url, { allowFile: config.allowFileRepos }, f("repo_url"));
    if (b.image_url !== undefined) throw new Invalid(f("image_url"), `${f("image_url")} is only for source_type "image"`);
  } else {
    image = input.imageRef(b.image_url, f("image_url"));
    if (b.repo_url !== undefined) throw new Invalid(f("repo_url"), `${f("repo_url")} is only for source_type "github"`);
  }
  const branch = b.branch === undefined ? "main" : input.branch(b.branch, f("branch"));
  const sha = b.commit_sha === undefined ? null : input.commitSha(b.commit_sha, f("commit_sha"));
  const port = b[o.portField] === undefined || b[o.portField] === null ? null : input.port(b[o.portField], f(o.portField));
  const size = b.resource_size === undefined ? o.defaults.size ?? "small" : input.resourceSize(b.resource_size, f("resource_size"));
  const bool = (k: string, d: boolean) => {
    if (b[k] === undefined) return d;
    if (typeof b[k] !== "boolean") throw new Invalid(f(k), `${f(k)} must be a boolean`);
    return b[k] as boolean;
  };
  const priority = b.priority === undefined ? 0 : Number.isInteger(b.priority) && (b.priority as number) >= 0 && (b.priority as number) <= 1000 ? (b.priority as number) : badPriority(f("priority"));
  const env = b.env === undefined ? {} : validateEnv(b.env, f("env"));
  return {
    env,
    row: {
      id: newId("svc"), name: o.name, source_type: source, repo_url: repo, branch, commit_sha: sha, image_url: image, registry_id: null,
      port, is_primary: bool("is_primary", o.defaults.primary) ? 1 : 0, is_routable: bool("is_routable", o.defaults.routable) ? 1 : 0,
      resource_size: size, priority, depends_on: "[]", volumes: "[]", healthcheck: null, command: null, status: "pending",
      current_deployment_id: null, container_id: null, container_ip: null,
    },
  };
}

function badPriority(field: string): never {
  throw new Invalid(field, `${field} must be an integer between 0 and 1000`);
}

/** services[]: unique DNS-label names, at least one routable, exactly one primary (explicit or the first routable). */
export function parseServices(config: Config, list: unknown, tenantSize: string): ServiceDraft[] {
  if (!Array.isArray(list) || list.length === 0) throw new Invalid("services", "services must be a non-empty array");
  if (list.length > 20) throw new Invalid("services", "at most 20 services per tenant");
  const seen = new Set<string>();
  const drafts = list.map((raw, i) => {
    const prefix = `services[${i}].`;
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new Invalid(`services[${i}]`, `services[${i}] must be an object`);
    const name = input.serviceName((raw as Body).name, `${prefix}name`);
    if (seen.has(name)) throw new Invalid(`${prefix}name`, `Duplicate service name "${name}"`);
    seen.add(name);
    return parseService(config, raw as Body, { name, prefix, portField: "port", defaults: { routable: false, primary: false, size: tenantSize } });
  });
  const routable = drafts.filter((d) => d.row.is_routable);
  if (routable.length === 0) throw new Invalid("services", "At least one service must be routable (is_routable: true)");
  const primaries = drafts.filter((d) => d.row.is_primary);
  if (primaries.length > 1) throw new Invalid("services", "Only one service can be primary");
  if (primaries.length === 1 && !primaries[0].row.is_routable) throw new Invalid("services", "The primary service must be routable");
  if (primaries.length === 0) routable[0].row.is_primary = 1;
  return drafts;
}
