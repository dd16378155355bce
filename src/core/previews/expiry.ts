// The TTL of previews: one without a new commit for its base's ttl_hours is deleted, and so is one whose base
// tenant is gone or being deleted (nothing else would ever close it).
import type { Ctx } from "../context.ts";
import * as previews from "../../store/previews.ts";
import * as tenants from "../../store/tenants.ts";
import type { PreviewWithTtl } from "../../store/previews.ts";
import { deletePreview } from "./preview-tenant.ts";

/** The previews to delete at `now` (pure: tested as a table). */
export function stalePreviews(rows: PreviewWithTtl[], now: Date): PreviewWithTtl[] {
  return rows.filter((r) => {
    if (r.status === "deleting") return false;
    if (r.base_tenant_id === null || r.ttl_hours === null || r.base_status === "deleting") return true;
    return Date.parse(r.updated_at) + r.ttl_hours * 3_600_000 <= now.getTime();
  });
}

/** One sweep: starts the deletion of every stale preview; returns their names. */
export function sweepPreviews(ctx: Ctx): string[] {
  const stale = stalePreviews(previews.listWithTtl(ctx.db), ctx.now());
  const names: string[] = [];
  for (const r of stale) {
    const t = tenants.findById(ctx.db, r.tenant_id);
    if (!t) continue;
    deletePreview(ctx, t);
    names.push(t.name);
  }
  if (names.length) ctx.log.info("stale previews deleted", { count: names.length, names });
  return names;
}
