// GET/PUT/PATCH of a tenant's environment: masked on the way out, sealed at rest, applied by a redeploy.
import type { Ctx } from "../context.ts";
import type { Principal } from "../identity/principal.ts";
import type { TenantRow } from "../../store/tenants.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import { nowIso } from "../../lib/ids.ts";
import { maskedList, openEnv, sealEnv, validateEnv } from "../env-vars.ts";
import { assertDeployable, redeployCurrent } from "../deploy/deployments.ts";
import { envPatch, applyEnvPatch } from "./env-patch.ts";

type EnvResult = { env: Array<{ key: string; value: string }>; deploymentIds: string[] };

export function getEnv(ctx: Ctx, p: Principal, tenantId: string): Array<{ key: string; value: string }> {
  const t = tenants.get(ctx.db, p, tenantId);
  return maskedList(openEnv(ctx.box, t.env_enc));
}

/**
 * Replaces the whole env. Each service is redeployed with its current image (no rebuild) so the
 * new values reach the app; a service that never ran gets a full deployment instead.
 */
export function putEnv(ctx: Ctx, p: Principal, tenantId: string, body: unknown): EnvResult {
  const t = tenants.get(ctx.db, p, tenantId);
  assertDeployable(t);
  const env = validateEnv(body, "body");
  return store(ctx, p, t, env);
}

/**
 * Sets and unsets single keys (an extension: PUT replaces all, and a client never sees secret values to send them
 * back). The values it does not name stay as stored, secrets included. Applied like PUT (a redeploy per service),
 * except that a patch that changes nothing redeploys nothing.
 */
export function patchEnv(ctx: Ctx, p: Principal, tenantId: string, body: unknown): EnvResult {
  const t = tenants.get(ctx.db, p, tenantId);
  assertDeployable(t);
  const patch = envPatch(body);
  const current = openEnv(ctx.box, t.env_enc);
  const { env, changed } = applyEnvPatch(current, patch);
  if (!changed) return { env: maskedList(current), deploymentIds: [] };
  return store(ctx, p, t, validateEnv(env, "env")); // the limits (count, total size) hold for the result
}

function store(ctx: Ctx, p: Principal, t: TenantRow, env: Record<string, string>): EnvResult {
  tenants.update(ctx.db, t.id, { env_enc: sealEnv(ctx.box, env), updated_at: nowIso() });
  const fresh = tenants.get(ctx.db, p, t.id);
  const ids = services.list(ctx.db, t.id).map((s) => redeployCurrent(ctx, fresh, s, "env").id);
  return { env: maskedList(env), deploymentIds: ids };
}
