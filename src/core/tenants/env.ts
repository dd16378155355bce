// GET/PUT of a tenant's environment: masked on the way out, sealed at rest, applied by a redeploy.
import type { Ctx } from "../context.ts";
import type { Principal } from "../identity/principal.ts";
import * as tenants from "../../store/tenants.ts";
import * as services from "../../store/services.ts";
import { nowIso } from "../../lib/ids.ts";
import { maskedList, openEnv, sealEnv, validateEnv } from "../env-vars.ts";
import { assertDeployable, redeployCurrent } from "../deploy/deployments.ts";

export function getEnv(ctx: Ctx, p: Principal, tenantId: string): Array<{ key: string; value: string }> {
  const t = tenants.get(ctx.db, p, tenantId);
  return maskedList(openEnv(ctx.box, t.env_enc));
}

/**
 * Replaces the whole env. Each service is redeployed with its current image (no rebuild) so the
 * new values reach the app; a service that never ran gets a full deployment instead.
 */
export function putEnv(ctx: Ctx, p: Principal, tenantId: string, body: unknown): { env: Array<{ key: string; value: string }>; deploymentIds: string[] } {
  const t = tenants.get(ctx.db, p, tenantId);
  assertDeployable(t);
  const env = validateEnv(body, "body");
  tenants.update(ctx.db, t.id, { env_enc: sealEnv(ctx.box, env), updated_at: nowIso() });
  const fresh = tenants.get(ctx.db, p, t.id);
  const ids = services.list(ctx.db, t.id).map((s) => redeployCurrent(ctx, fresh, s, "env").id);
  return { env: maskedList(env), deploymentIds: ids };
}
