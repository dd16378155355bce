// A tenant's preview settings (GET/PUT /tenants/{id}/previews) and the list of its previews.
import type { Ctx } from "../context.ts";
import type { Principal } from "../identity/principal.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import * as previews from "../../store/previews.ts";
import type { PreviewRow, PreviewSettingsRow } from "../../store/previews.ts";
import type { TenantRow } from "../../store/tenants.ts";
import { Invalid, Unprocessable } from "../../lib/errors.ts";
import { nowIso } from "../../lib/ids.ts";
import { assertEnvName, isSecret, validateEnv } from "../env-vars.ts";
import { tenantUrl } from "../resources.ts";
import { parseGitHubRepo } from "../github/source.ts";

/** How long a preview lives without a new commit, unless the tenant says otherwise. */
export const DEFAULT_TTL_HOURS = 72;
const MAX_TTL_HOURS = 24 * 90;

export interface PreviewSettings {
  enabled: boolean;
  allowForks: boolean;
  ttlHours: number;
  /** A value replaces the tenant's; null removes the variable from previews (e.g. a live payment key). */
  envOverrides: Record<string, string | null>;
}

/** The stored settings, or the defaults (previews off). */
export function settingsOf(ctx: Ctx, row: PreviewSettingsRow | undefined): PreviewSettings {
  if (!row) return { enabled: false, allowForks: false, ttlHours: DEFAULT_TTL_HOURS, envOverrides: {} };
  return {
    enabled: row.enabled === 1,
    allowForks: row.allow_forks === 1,
    ttlHours: row.ttl_hours,
    envOverrides: ctx.box.openJson<Record<string, string | null>>(row.env_overrides_enc, {}),
  };
}

const bool = (v: unknown, field: string): boolean => {
  if (typeof v !== "boolean") throw new Invalid(field, `${field} must be true or false`);
  return v;
};

/** env_overrides: {KEY: "value" | null}; each bad name or value is a 400 naming `env_overrides.KEY`. */
export function parseOverrides(v: unknown): Record<string, string | null> {
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw new Invalid("env_overrides", "env_overrides must be an object of variable name → string value (or null to remove it)");
  const entries = Object.entries(v as Record<string, unknown>);
  const removed = entries.filter(([, x]) => x === null).map(([k]) => k);
  for (const k of removed) assertEnvName(k, "env_overrides", `env_overrides.${k}`);
  const set = validateEnv(Object.fromEntries(entries.filter(([, x]) => x !== null)), "env_overrides");
  return { ...set, ...Object.fromEntries(removed.map((k) => [k, null])) };
}

/** PUT: the fields given replace theirs, the others keep their value; at least one field. */
export function parseSettings(body: Record<string, unknown>, current: PreviewSettings): PreviewSettings {
  if (Object.keys(body).length === 0)
    throw new Invalid("body", "Give at least one of enabled, allow_forks, ttl_hours, env_overrides");
  const next = { ...current };
  if (body.enabled !== undefined) next.enabled = bool(body.enabled, "enabled");
  if (body.allow_forks !== undefined) next.allowForks = bool(body.allow_forks, "allow_forks");
  if (body.ttl_hours !== undefined) {
    const n = body.ttl_hours;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_TTL_HOURS)
      throw new Invalid("ttl_hours", `ttl_hours must be an integer from 1 to ${MAX_TTL_HOURS}`);
    next.ttlHours = n;
  }
  if (body.env_overrides !== undefined) next.envOverrides = parseOverrides(body.env_overrides);
  return next;
}

/** The repos and branches whose pull requests get previews: the tenant's GitHub-sourced services. */
function watched(ctx: Ctx, t: TenantRow): Array<{ repo: string; branch: string }> {
  const out: Array<{ repo: string; branch: string }> = [];
  for (const s of services.list(ctx.db, t.id)) {
    const repo = s.source_type === "github" ? parseGitHubRepo(ctx.config, s.repo_url) : undefined;
    if (repo && !out.some((w) => w.repo === repo.fullName && w.branch === s.branch))
      out.push({ repo: repo.fullName, branch: s.branch });
  }
  return out;
}

export function settingsView(ctx: Ctx, t: TenantRow, s: PreviewSettings) {
  return {
    enabled: s.enabled,
    allow_forks: s.allowForks,
    ttl_hours: s.ttlHours,
    // masked like the tenant's env: a secret never leaves the store in clear
    env_overrides: Object.keys(s.envOverrides)
      .sort()
      .map((key) => {
        const value = s.envOverrides[key] ?? null;
        return { key, value: value !== null && isSecret(key, value) ? "****" : value };
      }),
    watches: watched(ctx, t),
    limit: ctx.config.previewLimit,
  };
}

/** A base tenant of the caller; a preview cannot have previews of its own. */
function baseTenant(ctx: Ctx, p: Principal, id: string): TenantRow {
  const t = tenants.get(ctx.db, p, id);
  if (previews.find(ctx.db, t.id))
    throw new Unprocessable("preview_tenant", "This tenant is a pull request preview: previews are set on its base tenant", {
      field: "id",
    });
  return t;
}

export function getSettings(ctx: Ctx, p: Principal, id: string) {
  const t = baseTenant(ctx, p, id);
  return settingsView(ctx, t, settingsOf(ctx, previews.findSettings(ctx.db, t.id)));
}

export function putSettings(ctx: Ctx, p: Principal, id: string, body: Record<string, unknown>) {
  const t = baseTenant(ctx, p, id);
  const next = parseSettings(body, settingsOf(ctx, previews.findSettings(ctx.db, t.id)));
  if (t.status === "deleting") throw new Unprocessable("tenant_deleting", "The tenant is being deleted");
  previews.upsertSettings(ctx.db, {
    tenant_id: t.id,
    enabled: next.enabled ? 1 : 0,
    allow_forks: next.allowForks ? 1 : 0,
    ttl_hours: next.ttlHours,
    env_overrides_enc: Object.keys(next.envOverrides).length ? ctx.box.sealJson(next.envOverrides) : null,
    updated_at: nowIso(ctx.now()),
  });
  return settingsView(ctx, t, next);
}

/** One preview as listed: where it is served, which commit, when the TTL deletes it. */
export function previewView(ctx: Ctx, p: PreviewRow, t: TenantRow, ttlHours: number) {
  return {
    tenant_id: t.id,
    name: t.name,
    status: t.status,
    url: tenantUrl(ctx.config, t.name),
    pr_number: p.pr_number,
    repo: p.repo,
    head_repo: p.head_repo,
    head_ref: p.head_ref,
    head_sha: p.head_sha,
    fork: p.head_repo.toLowerCase() !== p.repo.toLowerCase(),
    expires_at: nowIso(new Date(Date.parse(p.updated_at) + ttlHours * 3_600_000)),
    created_at: p.created_at,
    updated_at: p.updated_at,
  };
}

export function listPreviews(ctx: Ctx, p: Principal, id: string) {
  const t = baseTenant(ctx, p, id);
  const ttl = settingsOf(ctx, previews.findSettings(ctx.db, t.id)).ttlHours;
  return previews.listOf(ctx.db, t.id).flatMap((row) => {
    const pt = tenants.findById(ctx.db, row.tenant_id);
    return pt ? [previewView(ctx, row, pt, ttl)] : [];
  });
}
