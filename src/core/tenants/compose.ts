// Compose import: a docker-compose document mapped onto service definitions (the same bodies services[]
// takes), refusing every key that would weaken the sandbox, with a note for each key that is ignored.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { Config } from "../../config.ts";
import type { Ctx } from "../context.ts";
import { RepoTree } from "../../build/tree.ts";
import { Invalid, Unprocessable } from "../../lib/errors.ts";
import { CAP_ADD } from "../../runtime/container-spec.ts";
import { isStateful } from "../deploy/group.ts";
import * as input from "../input.ts";

type Body = Record<string, unknown>;
export const MAX_COMPOSE_BYTES = 256 * 1024;

/** Where `build:` contexts live: the repository named beside `compose` in the request. */
export interface ComposeSource {
  repoUrl?: string;
  branch?: string;
}

export interface ComposeResult {
  services: Body[];
  /** Compose service names, in document order (errors name `compose.services.<name>.<key>`). */
  names: string[];
  /** What was ignored and why, one line each. */
  notes: string[];
}

/** Keys refused outright: each one hands a container something of the host. */
const REFUSED: Record<string, (v: unknown) => boolean> = {
  privileged: (v) => v === true || v === "true",
  network_mode: (v) => v !== undefined && v !== "bridge" && v !== "default",
  pid: (v) => typeof v === "string" && v !== "",
  ipc: (v) => typeof v === "string" && v !== "private" && v !== "none" && v !== "",
  uts: (v) => v === "host",
  userns_mode: (v) => typeof v === "string" && v !== "",
  devices: (v) => v !== undefined && v !== null,
  device_cgroup_rules: (v) => v !== undefined,
  security_opt: (v) => v !== undefined && v !== null,
  sysctls: (v) => v !== undefined,
  volumes_from: (v) => v !== undefined,
  cgroup_parent: (v) => v !== undefined,
  cgroup: (v) => v === "host",
  runtime: (v) => v !== undefined,
};
/** Keys honoured by Staxa itself (noted, not an error). */
const NOTED: Record<string, string> = {
  container_name: "container names are Staxa's",
  restart: "Staxa restarts services itself (unless-stopped)",
  networks: "each tenant has one private network; services find each other by name",
  hostname: "the service name is the host name",
  deploy: "use resource_size",
  mem_limit: "use resource_size",
  cpus: "use resource_size",
  labels: "labels are Staxa's",
  logging: "logs go to the service logs",
  env_file: "env files are not read; use environment",
  entrypoint: "the image's entrypoint is used",
  cap_drop: "every capability is dropped already",
  expose: "the first exposed port is the service port when there is no ports entry",
  extra_hosts: "not supported",
  tmpfs: "not supported",
  user: "the image's user is used",
  working_dir: "the image's working directory is used",
  ulimits: "Staxa sets the limits",
  stop_signal: "not supported",
  stop_grace_period: "not supported",
  init: "not supported",
  shm_size: "not supported",
  dns: "not supported",
  profiles: "every service is imported",
  platform: "not supported",
  pull_policy: "images from a registry are pulled on every deploy",
  tty: "not supported",
  stdin_open: "not supported",
};
const HANDLED = new Set([
  "image",
  "build",
  "ports",
  "environment",
  "volumes",
  "depends_on",
  "healthcheck",
  "command",
  "cap_add",
  "x-staxa-routable",
  "x-staxa-primary",
  "x-staxa-priority",
  "x-staxa-resource-size",
  ...Object.keys(REFUSED),
]);

/** The repo of `build:` contexts from the request body (repo_url, branch), validated. */
export function composeSource(config: Config, b: Body): ComposeSource {
  if (b.repo_url === undefined) return {};
  return {
    repoUrl: input.repoUrl(b.repo_url, config),
    branch: b.branch === undefined ? "main" : input.branch(b.branch),
  };
}

/**
 * `compose_file` in a create body: read from a clone of repo_url (branch) at request time, then handled as
 * `compose`. The tenant name is checked first, so a bad request never clones.
 */
export async function resolveComposeFile(ctx: Ctx, b: Body): Promise<Body> {
  if (b.compose_file === undefined) return b;
  input.tenantName(b.name);
  if (b.compose !== undefined) throw new Invalid("compose_file", "Give compose or compose_file, not both");
  const path = buildContext(b.compose_file, "compose_file");
  if (!path || !/\.ya?ml$/.test(path))
    throw new Invalid("compose_file", "compose_file must be a .yml or .yaml file inside the repository");
  const src = composeSource(ctx.config, b);
  if (!src.repoUrl) throw new Invalid("repo_url", "compose_file needs repo_url: the repository holding it");
  mkdirSync(join(ctx.config.dataDir, "builds"), { recursive: true });
  const dir = mkdtempSync(join(ctx.config.dataDir, "builds", "compose-"));
  try {
    try {
      await ctx.git.clone({ repoUrl: src.repoUrl, branch: src.branch!, dir, timeoutMs: 60_000, onLog: () => {} });
    } catch (e) {
      throw new Unprocessable("compose_unreadable", `Could not clone repo_url to read ${path}: ${(e as Error).message}`, {
        field: "repo_url",
      });
    }
    const file = new RepoTree(dir).resolve(path);
    if (!file || !statSync(file).isFile())
      throw new Unprocessable("compose_unreadable", `${path} is not a file in the repository`, { field: "compose_file" });
    if (statSync(file).size > MAX_COMPOSE_BYTES)
      throw new Invalid("compose_file", `${path} must be at most ${MAX_COMPOSE_BYTES} bytes`);
    const { compose_file: _, ...rest } = b;
    return { ...rest, compose: readFileSync(file, "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Parses and maps a compose document; every refusal is a 400 naming the key (`compose.services.<svc>.<key>`). */
export function composeServices(text: unknown, src: ComposeSource): ComposeResult {
  if (typeof text !== "string" || text.trim() === "")
    throw new Invalid("compose", "compose must be the text of a docker-compose file");
  if (Buffer.byteLength(text) > MAX_COMPOSE_BYTES)
    throw new Invalid("compose", `compose must be at most ${MAX_COMPOSE_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100, merge: true, uniqueKeys: true, prettyErrors: false });
  } catch (e) {
    throw new Invalid("compose", `compose is not valid YAML: ${String((e as Error).message).split("\n")[0]}`);
  }
  const svcs = isMap(doc) ? doc.services : undefined;
  if (!isMap(svcs) || Object.keys(svcs).length === 0)
    throw new Invalid("compose.services", "compose must have a services mapping with at least one service");
  const notes: string[] = [];
  const names = Object.keys(svcs);
  const services = names.map((name) => mapService(name, svcs[name], src, notes));
  if (!services.some((s) => s.is_routable === true)) {
    const first = services.find(
      (s) => s.port !== undefined && !isStateful({ image_url: (s.image_url as string) ?? null, volumes: "[]" }),
    );
    if (first) {
      first.is_routable = true;
      notes.push(`no service has x-staxa-routable: ${first.name} (the first with a port) is routable`);
    }
  }
  return { services, names, notes };
}

function mapService(name: string, raw: unknown, src: ComposeSource, notes: string[]): Body {
  const f = (k: string) => `compose.services.${name}.${k}`;
  if (!isMap(raw)) throw new Invalid(`compose.services.${name}`, `compose.services.${name} must be a mapping`);
  for (const [key, bad] of Object.entries(REFUSED)) {
    if (raw[key] !== undefined && bad(raw[key]))
      throw new Invalid(f(key), `${f(key)} is refused: it would give the container part of the host`, { key });
  }
  for (const key of Object.keys(raw)) {
    if (HANDLED.has(key)) continue;
    notes.push(`${name}.${key} ignored: ${NOTED[key] ?? "not supported"}`);
  }
  const out: Body = { name };
  Object.assign(out, source(raw, src, f));
  const port = firstPort(raw, f);
  if (port !== undefined) out.port = port;
  if (raw.environment !== undefined) out.env = environment(raw.environment, f("environment"), name, notes);
  if (raw.volumes !== undefined) out.volumes = volumes(raw.volumes, f("volumes"), name, notes);
  if (raw.depends_on !== undefined)
    out.depends_on = Array.isArray(raw.depends_on)
      ? raw.depends_on
      : isMap(raw.depends_on)
        ? Object.keys(raw.depends_on)
        : badType(f("depends_on"), "a list or a mapping");
  const hc = healthcheck(raw.healthcheck, name, notes);
  if (hc) out.healthcheck = hc;
  if (raw.command !== undefined) out.command = command(raw.command, f("command"));
  if (raw.cap_add !== undefined) {
    const caps = Array.isArray(raw.cap_add)
      ? raw.cap_add.map((c) => String(c).toUpperCase().replace(/^CAP_/, ""))
      : badType(f("cap_add"), "a list");
    const extra = caps.filter((c) => !(CAP_ADD as readonly string[]).includes(c));
    if (extra.length)
      throw new Invalid(
        f("cap_add"),
        `${f("cap_add")} is refused for ${extra.join(", ")}: only ${CAP_ADD.join(", ")} are allowed`,
        { key: "cap_add", capabilities: extra },
      );
  }
  for (const [ext, key] of [
    ["x-staxa-routable", "is_routable"],
    ["x-staxa-primary", "is_primary"],
    ["x-staxa-priority", "priority"],
    ["x-staxa-resource-size", "resource_size"],
  ] as const) {
    if (raw[ext] !== undefined) out[key] = raw[ext];
  }
  return out;
}

function source(raw: Body, src: ComposeSource, f: (k: string) => string): Body {
  if (raw.build !== undefined) {
    if (!src.repoUrl)
      throw new Invalid(f("build"), `${f("build")} needs repo_url in the request: the repository holding the build context`);
    const b =
      typeof raw.build === "string"
        ? { context: raw.build }
        : isMap(raw.build)
          ? raw.build
          : badType(f("build"), "a path or a mapping");
    if (b.dockerfile !== undefined && b.dockerfile !== "Dockerfile")
      throw new Invalid(
        f("build.dockerfile"),
        `${f("build.dockerfile")}: only a file named Dockerfile in the context is supported`,
      );
    return {
      source_type: "github",
      repo_url: src.repoUrl,
      branch: src.branch,
      build_context: buildContext(b.context, f("build.context")),
    };
  }
  if (raw.image === undefined) throw new Invalid(f("image"), `${f("image")} or build is required`);
  return { source_type: "image", image_url: raw.image };
}

/** A relative directory inside the repository ("." is its root). */
export function buildContext(v: unknown, field: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "string" || v.length > 255) throw new Invalid(field, `${field} must be a directory inside the repository`);
  const parts = v
    .replace(/^\.\//, "")
    .split("/")
    .filter((p) => p !== "" && p !== ".");
  if (
    v.startsWith("/") ||
    v.includes("\\") ||
    /^[a-z]+:/i.test(v) ||
    parts.some((p) => p === ".." || !/^[A-Za-z0-9._@+-]+$/.test(p))
  ) {
    throw new Invalid(field, `${field} must be a relative directory inside the repository (no '..', no absolute path, no URL)`);
  }
  return parts.length ? parts.join("/") : null;
}

/** First `ports` entry's container port ("8080", "80:8080", "127.0.0.1:80:8080/tcp", {target}), else first `expose`. */
function firstPort(raw: Body, f: (k: string) => string): number | undefined {
  const list = raw.ports ?? raw.expose;
  const key = raw.ports !== undefined ? "ports" : "expose";
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || list.length === 0) return badType(f(key), "a non-empty list");
  const first = list[0];
  const target = isMap(first) ? first.target : String(first).split("/")[0].split(":").pop();
  const n = typeof target === "number" ? target : /^\d+$/.test(String(target)) ? Number(target) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new Invalid(f(`${key}[0]`), `${f(`${key}[0]`)} must name one container port between 1 and 65535`);
  return n;
}

function environment(v: unknown, field: string, svc: string, notes: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const entries: Array<[string, unknown]> = Array.isArray(v)
    ? v.map((e) => {
        const s = String(e);
        const i = s.indexOf("=");
        return i < 0 ? [s, null] : [s.slice(0, i), s.slice(i + 1)];
      })
    : isMap(v)
      ? Object.entries(v)
      : badType(field, "a list of KEY=value or a mapping");
  for (const [k, val] of entries) {
    if (val === null || val === undefined)
      notes.push(`${svc}.environment.${k} has no value (taken from the host in compose) and is skipped`);
    else if (typeof val === "string" || typeof val === "number" || typeof val === "boolean") out[k] = String(val);
    else throw new Invalid(`${field}.${k}`, `${field}.${k} must be a scalar`);
  }
  return out;
}

/** Named volumes only: a host path (bind mount) is refused; anonymous volumes are skipped with a note. */
function volumes(v: unknown, field: string, svc: string, notes: string[]): Array<{ name: string; mount_path: string }> {
  if (!Array.isArray(v)) return badType(field, "a list");
  const out: Array<{ name: string; mount_path: string }> = [];
  v.forEach((e, i) => {
    const fi = `${field}[${i}]`;
    let src: string | undefined;
    let target: unknown;
    if (isMap(e)) {
      if (e.type !== undefined && e.type !== "volume") {
        if (e.type === "tmpfs") return void notes.push(`${svc}.volumes[${i}] (tmpfs) skipped`);
        throw new Invalid(fi, `${fi} of type ${String(e.type)} is refused: only named volumes are supported`, { key: "volumes" });
      }
      src = e.source === undefined ? undefined : String(e.source);
      target = e.target;
    } else {
      const parts = String(e).split(":");
      if (parts.length === 1) target = parts[0];
      else [src, target] = parts;
    }
    if (src === undefined || src === "")
      return void notes.push(`${svc}.volumes[${i}] (anonymous) skipped: name it to keep its data`);
    if (/[/\\~]/.test(src) || src.startsWith("."))
      throw new Invalid(fi, `${fi} is a host path (bind mount) and is refused: use a named volume`, { key: "volumes" });
    out.push({ name: src.toLowerCase().replace(/_/g, "-"), mount_path: String(target) });
  });
  return out;
}

/** A curl or wget of localhost in `test` becomes an HTTP path; anything else is noted and ignored. */
function healthcheck(v: unknown, svc: string, notes: string[]): { path: string } | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isMap(v) || v.disable === true) return undefined;
  const test = Array.isArray(v.test) ? v.test.map(String).join(" ") : String(v.test ?? "");
  const m = /\b(curl|wget)\b.*?https?:\/\/(localhost|127\.0\.0\.1|0\.0\.0\.0)(:\d+)?(\/[^\s'"|;&]*)?/.exec(test);
  if (m) return { path: m[4] ?? "/" };
  notes.push(`${svc}.healthcheck ignored: only a curl/wget of http://localhost is understood`);
  return undefined;
}

function command(v: unknown, field: string): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v !== "string") return badType(field, "a list or a string");
  // Compose splits a string command on whitespace without a shell; quoting is not supported here.
  if (/["'\\]/.test(v)) throw new Invalid(field, `${field}: write a quoted command as a list`);
  return v.trim().split(/\s+/);
}

function isMap(v: unknown): v is Record<string, any> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

function badType(field: string, what: string): never {
  throw new Invalid(field, `${field} must be ${what}`);
}
