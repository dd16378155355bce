// Validation of the service definitions of a tenant (single-service body or services[]), into insertable rows.
import type { Config } from "../../config.ts";
import type { ServiceRow } from "../../store/services.ts";
import { Invalid } from "../../lib/errors.ts";
import { newId } from "../../lib/ids.ts";
import * as input from "../input.ts";
import { validateEnv } from "../env-vars.ts";
import * as compose from "./compose.ts";
import { parseVolumes, toMounts, type VolumeSpec } from "../deploy/volumes.ts";

export interface ServiceDraft {
  row: Omit<ServiceRow, "tenant_id" | "created_at" | "updated_at" | "env_enc">;
  env: Record<string, string>;
  volumes: VolumeSpec[];
  dependsOn: string[];
}

type Body = Record<string, unknown>;

/** One service from a body (`prefix` names fields in errors, e.g. "services[1]."). */
export function parseService(
  config: Config,
  b: Body,
  o: {
    tenant: string;
    name: string;
    prefix: string;
    portField: string;
    defaults: { routable: boolean; primary: boolean; size?: string };
  },
): ServiceDraft {
  const f = (k: string) => `${o.prefix}${k}`;
  const source = input.sourceType(b.source_type, f("source_type"));
  let repo: string | null = null;
  let image: string | null = null;
  if (source === "github") {
    repo = input.repoUrl(b.repo_url, config, f("repo_url"));
    if (b.image_url !== undefined) throw new Invalid(f("image_url"), `${f("image_url")} is only for source_type "image"`);
  } else {
    image = input.imageRef(b.image_url, f("image_url"));
    if (b.repo_url !== undefined) throw new Invalid(f("repo_url"), `${f("repo_url")} is only for source_type "github"`);
  }
  const branch = b.branch === undefined ? "main" : input.branch(b.branch, f("branch"));
  const sha = b.commit_sha === undefined ? null : input.commitSha(b.commit_sha, f("commit_sha"));
  const port = b[o.portField] === undefined || b[o.portField] === null ? null : input.port(b[o.portField], f(o.portField));
  const size =
    b.resource_size === undefined ? (o.defaults.size ?? "small") : input.resourceSize(b.resource_size, f("resource_size"));
  const bool = (k: string, d: boolean) => {
    if (b[k] === undefined) return d;
    if (typeof b[k] !== "boolean") throw new Invalid(f(k), `${f(k)} must be a boolean`);
    return b[k] as boolean;
  };
  const priority =
    b.priority === undefined
      ? 0
      : Number.isInteger(b.priority) && (b.priority as number) >= 0 && (b.priority as number) <= 1000
        ? (b.priority as number)
        : badPriority(f("priority"));
  const env = b.env === undefined ? {} : validateEnv(b.env, f("env"));
  const volumes = parseVolumes(b.volumes, f("volumes"));
  const dependsOn = dependsList(b.depends_on, f("depends_on"), o.name);
  const healthcheck =
    b.healthcheck === undefined || b.healthcheck === null ? null : JSON.stringify(healthPath(b.healthcheck, f("healthcheck")));
  const buildContext =
    b.build_context === undefined
      ? null
      : source === "github"
        ? compose.buildContext(b.build_context, f("build_context"))
        : badSource(f("build_context"));
  const command = b.command === undefined || b.command === null ? null : JSON.stringify(commandList(b.command, f("command")));
  const replicas = b.replicas === undefined ? 1 : replicaCount(config, b.replicas, f("replicas"), volumes.length > 0);
  return {
    env,
    volumes,
    dependsOn,
    row: {
      id: newId("svc"),
      name: o.name,
      source_type: source,
      repo_url: repo,
      branch,
      commit_sha: sha,
      image_url: image,
      registry_id: null,
      port,
      is_primary: bool("is_primary", o.defaults.primary) ? 1 : 0,
      is_routable: bool("is_routable", o.defaults.routable) ? 1 : 0,
      resource_size: size,
      priority,
      depends_on: JSON.stringify(dependsOn),
      volumes: JSON.stringify(toMounts(o.tenant, o.name, volumes)),
      healthcheck,
      command,
      build_context: buildContext,
      status: "pending",
      current_deployment_id: null,
      container_id: null,
      container_ip: null,
      live_port: null,
      live_image: null,
      replicas,
    },
  };
}

/**
 * `replicas`: containers of the service, 1..STAXA_MAX_REPLICAS (at most 10). A service with volumes runs one: two
 * containers on one data directory corrupt it, and its deploys are stop-then-start for the same reason.
 */
export function replicaCount(config: Config, v: unknown, field: string, stateful: boolean): number {
  const max = config.maxReplicas;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max)
    throw new Invalid(field, `${field} must be an integer between 1 and ${max}`);
  if (v > 1 && stateful)
    throw new Invalid(field, `${field}: a service with volumes (stateful) runs exactly one replica`, { max: 1 });
  return v;
}

function dependsList(v: unknown, field: string, self: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > 20) throw new Invalid(field, `${field} must be an array of at most 20 service names`);
  const out = v.map((n, i) => input.serviceName(n, `${field}[${i}]`));
  if (out.includes(self)) throw new Invalid(field, `${field}: a service cannot depend on itself`);
  return [...new Set(out)];
}

/** `healthcheck: {path}`: the HTTP path probed instead of STAXA_HEALTH_PATH. */
function healthPath(v: unknown, field: string): { path: string } {
  const path = v && typeof v === "object" && !Array.isArray(v) ? (v as Body).path : undefined;
  const extra = path === undefined ? undefined : Object.keys(v as Body).find((k) => k !== "path");
  if (extra !== undefined) throw new Invalid(`${field}.${extra}`, `Unknown field "${field}.${extra}": a healthcheck is {path}`);
  if (typeof path !== "string" || !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%\/?-]{0,255}$/.test(path)) {
    throw new Invalid(`${field}.path`, `${field}.path must be an absolute URL path such as /health`);
  }
  return { path };
}

/** `command`: the container's argv (never a shell string). */
function commandList(v: unknown, field: string): string[] {
  if (
    !Array.isArray(v) ||
    v.length === 0 ||
    v.length > 64 ||
    !v.every((a) => typeof a === "string" && a.length <= 4096 && !a.includes("\0"))
  ) {
    throw new Invalid(field, `${field} must be a non-empty array of strings (argv form)`);
  }
  return v as string[];
}

function badSource(field: string): never {
  throw new Invalid(field, `${field} is only for source_type "github"`);
}

function badPriority(field: string): never {
  throw new Invalid(field, `${field} must be an integer between 0 and 1000`);
}

/**
 * services[]: unique DNS-label names, depends_on naming known services without a cycle, at least one
 * routable, exactly one primary (explicit or the first routable).
 */
export function parseServices(
  config: Config,
  list: unknown,
  tenant: string,
  tenantSize: string,
  prefixOf = (i: number) => `services[${i}].`,
): ServiceDraft[] {
  const at = (i: number, key = "") => prefixOf(i) + key;
  if (!Array.isArray(list) || list.length === 0) throw new Invalid("services", "services must be a non-empty array");
  if (list.length > 20) throw new Invalid("services", "at most 20 services per tenant");
  const seen = new Set<string>();
  const drafts = list.map((raw, i) => {
    const prefix = at(i);
    if (!raw || typeof raw !== "object" || Array.isArray(raw))
      throw new Invalid(prefix.slice(0, -1), `${prefix.slice(0, -1)} must be an object`);
    const name = input.serviceName((raw as Body).name, `${prefix}name`);
    if (seen.has(name)) throw new Invalid(`${prefix}name`, `Duplicate service name "${name}"`);
    seen.add(name);
    return parseService(config, raw as Body, {
      tenant,
      name,
      prefix,
      portField: "port",
      defaults: { routable: false, primary: false, size: tenantSize },
    });
  });
  drafts.forEach((d, i) =>
    d.dependsOn.forEach((dep, j) => {
      if (!seen.has(dep)) throw new Invalid(at(i, `depends_on[${j}]`), `${at(i, "depends_on")} names unknown service "${dep}"`);
    }),
  );
  const cycle = findCycle(drafts.map((d) => ({ name: d.row.name, dependsOn: d.dependsOn })));
  if (cycle)
    throw new Invalid(
      at(
        drafts.findIndex((d) => d.row.name === cycle[0]),
        "depends_on",
      ),
      `depends_on forms a cycle: ${cycle.join(" -> ")}`,
    );
  const routable = drafts.filter((d) => d.row.is_routable);
  if (routable.length === 0) throw new Invalid("services", "At least one service must be routable (is_routable: true)");
  const primaries = drafts.filter((d) => d.row.is_primary);
  if (primaries.length > 1) throw new Invalid(at(drafts.indexOf(primaries[1]), "is_primary"), "Only one service can be primary");
  if (primaries.length === 1 && !primaries[0].row.is_routable)
    throw new Invalid(at(drafts.indexOf(primaries[0]), "is_routable"), "The primary service must be routable");
  if (primaries.length === 0) routable[0].row.is_primary = 1;
  drafts.forEach((d, i) => assertHostFits(tenant, d.row, at(i, "name")));
  return drafts;
}

/** A routable non-primary service answers at `<service>-<tenant>.<base>`: that must stay one DNS label. */
export function assertHostFits(
  tenant: string,
  s: { name: string; is_routable: number; is_primary: number },
  field: string,
): void {
  if (s.is_routable && !s.is_primary && s.name.length + 1 + tenant.length > 63) {
    throw new Invalid(
      field,
      `${field}: "${s.name}-${tenant}" (its host name) must be at most 63 characters; use a shorter service name`,
    );
  }
}

/** The first dependency cycle found, as a path that returns to its start (a -> b -> a), or undefined. */
export function findCycle(nodes: Array<{ name: string; dependsOn: string[] }>): string[] | undefined {
  const edges = new Map(nodes.map((n) => [n.name, n.dependsOn]));
  const state = new Map<string, 1 | 2>(); // 1 on the current path, 2 done
  const path: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 2) return undefined;
    if (state.get(n) === 1) return [...path.slice(path.indexOf(n)), n];
    state.set(n, 1);
    path.push(n);
    for (const d of edges.get(n) ?? []) {
      const c = visit(d);
      if (c) return c;
    }
    path.pop();
    state.set(n, 2);
    return undefined;
  };
  for (const n of edges.keys()) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}
