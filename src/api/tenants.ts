// HTTP routes of /api/v1 for: tenants (list, create, get, update, delete).
import { Elysia, t } from "elysia";
import type { ApiDeps } from "../app.ts";
import { auth } from "./plugins/auth.ts";
import { one, page } from "./plugins/envelope.ts";
import { createTenant, deleteTenant, getTenant, listTenants, tenantSummary, tenantView, updateTenant } from "../core/tenants/tenants.ts";
import { Invalid } from "../lib/errors.ts";
import { resolveComposeFile } from "../core/tenants/compose.ts";

const listQuery = t.Object({
  status: t.Optional(t.String()),
  search: t.Optional(t.String()),
  sort: t.Optional(t.String()),
  limit: t.Optional(t.Numeric({ minimum: 1, maximum: 100 })),
  offset: t.Optional(t.Numeric({ minimum: 0 })),
});

/** Bodies are checked field by field in core (each error names its field); here only "is it an object". */
export function bodyObject(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new Invalid("body", "Request body must be a JSON object");
  return body as Record<string, unknown>;
}

export function tenantRoutes(deps: ApiDeps) {
  return new Elysia({ name: "routes:tenants" })
    .use(auth(deps))
    .get("/tenants", ({ principal, query }) => {
      const limit = query.limit ?? 20;
      const offset = query.offset ?? 0;
      const { rows, total } = listTenants(deps, principal, { ...query, limit, offset });
      return page(rows.map((r) => tenantSummary(deps, r)), total, limit, offset);
    }, { scope: "tenants:read", query: listQuery })
    .post("/tenants", async ({ principal, body, set }) => {
      const row = createTenant(deps, principal, await resolveComposeFile(deps, bodyObject(body))); // compose_file: read from the repo first
      set.status = 202;
      return one(tenantView(deps, row));
    }, { scope: "tenants:write" })
    .get("/tenants/:id", ({ principal, params }) => one(tenantView(deps, getTenant(deps, principal, params.id))), { scope: "tenants:read" })
    .patch("/tenants/:id", ({ principal, params, body }) => {
      const r = updateTenant(deps, principal, params.id, bodyObject(body));
      const res = one(tenantView(deps, r.tenant));
      // How the change takes effect: "none" (applied), "redeploy" (same image restarted), "rebuild".
      res.meta.effect = r.effect;
      res.meta.deployment_id = r.deploymentId;
      return res;
    }, { scope: "tenants:write" })
    .delete("/tenants/:id", ({ principal, params, set }) => {
      const row = deleteTenant(deps, principal, params.id);
      set.status = 202;
      return one({ id: row.id, name: row.name, status: row.status });
    }, { scope: "tenants:write" });
}
