// Persistent volumes of a service: validation of `volumes[]`, their Docker names, and their removal.
import type { Ctx } from "../context.ts";
import type { VolumeMount } from "../../runtime/types.ts";
import type { ServiceRow } from "../../store/services.ts";
import { Invalid } from "../../lib/errors.ts";

export interface VolumeSpec {
  name: string;
  mount_path: string;
}

export const MAX_VOLUMES = 5;
const VOL_NAME = /^[a-z0-9]([a-z0-9-]{0,28}[a-z0-9])?$/;
// Mounting over these would hide the container's own system files (or the kernel's views of itself).
const FORBIDDEN_TARGETS = ["/", "/proc", "/sys", "/dev", "/etc", "/bin", "/sbin", "/lib", "/usr", "/lib64"];

/** `volumes: [{name, mount_path}]`: named volumes only (a host path is never accepted), unique names and paths. */
export function parseVolumes(v: unknown, field: string): VolumeSpec[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Invalid(field, `${field} must be an array of {name, mount_path}`);
  if (v.length > MAX_VOLUMES) throw new Invalid(field, `${field}: at most ${MAX_VOLUMES} volumes per service`);
  const names = new Set<string>();
  const paths = new Set<string>();
  return v.map((raw, i) => {
    const f = `${field}[${i}]`;
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new Invalid(f, `${f} must be an object {name, mount_path}`);
    const { name, mount_path, ...unknown } = raw as Record<string, unknown>;
    const extra = Object.keys(unknown)[0];
    if (extra !== undefined) throw new Invalid(`${f}.${extra}`, `Unknown field "${f}.${extra}": a volume is {name, mount_path}`);
    if (typeof name !== "string" || !VOL_NAME.test(name))
      throw new Invalid(`${f}.name`, `${f}.name must be a DNS label of at most 30 characters (a-z, 0-9, '-')`);
    const path = mountPath(mount_path, `${f}.mount_path`);
    if (names.has(name)) throw new Invalid(`${f}.name`, `Duplicate volume name "${name}"`);
    if (paths.has(path)) throw new Invalid(`${f}.mount_path`, `Two volumes mounted at ${path}`);
    names.add(name);
    paths.add(path);
    return { name, mount_path: path };
  });
}

function mountPath(v: unknown, field: string): string {
  if (typeof v !== "string" || !v.startsWith("/"))
    throw new Invalid(field, `${field} must be an absolute path inside the container`);
  const clean = v.length > 1 ? v.replace(/\/+$/, "") : v;
  if (clean.length > 255 || !/^(\/[A-Za-z0-9._@+-]+)+$/.test(clean) || clean.split("/").some((p) => p === "." || p === "..")) {
    throw new Invalid(field, `${field} must be a plain absolute path (letters, digits, '._@+-'; no '..')`);
  }
  if (FORBIDDEN_TARGETS.includes(clean) || /^\/(proc|sys|dev)\//.test(clean))
    throw new Invalid(field, `${field} cannot be ${clean}`);
  return clean;
}

/**
 * Docker volume name of one volume: `staxa-<tenant>.<service>.<volume>`. Dots, not dashes, between the
 * parts: names are DNS labels that may contain '-', so `staxa-a-b-c-d` could be tenant "a-b"/service "c"
 * or tenant "a"/service "b-c" — two tenants would share one volume. No label contains '.'.
 */
export function volumeName(tenant: string, service: string, volume: string): string {
  return `staxa-${tenant}.${service}.${volume}`;
}

/** The stored form (what the container spec mounts). */
export function toMounts(tenant: string, service: string, specs: VolumeSpec[]): VolumeMount[] {
  return specs.map((s) => ({ name: volumeName(tenant, service, s.name), target: s.mount_path }));
}

export function mountsOf(s: Pick<ServiceRow, "volumes">): VolumeMount[] {
  return JSON.parse(s.volumes || "[]") as VolumeMount[];
}

/** The API's view: the short names the caller gave. */
export function volumeView(tenant: string, s: Pick<ServiceRow, "name" | "volumes">): VolumeSpec[] {
  const prefix = volumeName(tenant, s.name, "");
  return mountsOf(s).map((m) => ({
    name: m.name.startsWith(prefix) ? m.name.slice(prefix.length) : m.name,
    mount_path: m.target,
  }));
}

/** Removes the Docker volumes of a service (after its containers are gone: Docker refuses a volume in use). */
export async function removeServiceVolumes(ctx: Ctx, s: Pick<ServiceRow, "volumes">): Promise<void> {
  for (const m of mountsOf(s)) await ctx.runtime.removeVolume(m.name);
}
