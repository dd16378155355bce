// HTTP routes of /api/v1 for: tenants (list, create, get, update, delete).
import { Elysia, t } from "elysia";
import type { ApiDeps } from "./deps.ts";
import { auth } from "./plugins/auth.ts";
import { one, page } from "./plugins/envelope.ts";
import {
  createTenant,
  deleteTenant,
  getTenant,
  listTenants,
  tenantSummaries,
  tenantView,
  updateTenant,
} from "../core/tenants/tenants.ts";
import { resolveComposeFile } from "../core/tenants/compose.ts";
import { pageQuery } from "./query.ts";
import { bodyObject, coreField, createTenantBody, strictBody } from "./body.ts";
import { jsonBody } from "./plugins/json-body.ts";

const listQuery = pageQuery({
  status: t.Optional(t.String()),
  search: t.Optional(t.String()),
  sort: t.Optional(t.String()),
});

const updateBody = strictBody({
  display_name: coreField("Human-readable display name (null clears it)", { type: ["string", "null"] }),
  branch: coreField("Git branch (git-sourced tenants): a rebuild", { type: "string" }),
  repo_url: coreField("Git repository URL (git-sourced tenants; checked as at create): a rebuild from it", { type: "string" }),
  resource_size: coreField("small, medium or large: a restart with the same image", {
    type: "string",
    enum: ["small", "medium", "large"],
  }),
  app_port: coreField("Port the app listens on: a restart with the same image", { type: "integer", minimum: 1, maximum: 65535 }),
  egress_mode: coreField('"open" or "restricted"', { type: "string", enum: ["open", "restricted"] }),
});

export function tenantRoutes(deps: ApiDeps) {
  const json = jsonBody(deps.config.maxBodyBytes);
  return new Elysia({ name: "routes:tenants" })
    .use(auth(deps))
    .get(
      "/tenants",
      ({ principal, query }) => {
        const { rows, total } = listTenants(deps, principal, query);
        return page(tenantSummaries(deps, rows), total, query.limit, query.offset);
      },
      { scope: "tenants:read", query: listQuery },
    )
    .post(
      "/tenants",
      async ({ principal, body, set }) => {
        const row = createTenant(deps, principal, await resolveComposeFile(deps, bodyObject(body))); // compose_file: read from the repo first
        set.status = 202;
        return one(tenantView(deps, row));
      },
      { scope: "tenants:write", parse: json, body: createTenantBody },
    )
    .get("/tenants/:id", ({ principal, params }) => one(tenantView(deps, getTenant(deps, principal, params.id))), {
      scope: "tenants:read",
    })
    .patch(
      "/tenants/:id",
      ({ principal, params, body }) => {
        const r = updateTenant(deps, principal, params.id, bodyObject(body));
        const res = one(tenantView(deps, r.tenant));
        // How the change takes effect: "none" (applied), "redeploy" (same image restarted), "rebuild".
        res.meta.effect = r.effect;
        res.meta.deployment_id = r.deploymentId;
        return res;
      },
      { scope: "tenants:write", parse: json, body: updateBody },
    )
    .delete(
      "/tenants/:id",
      ({ principal, params, set }) => {
        const row = deleteTenant(deps, principal, params.id);
        set.status = 202;
        return one({ id: row.id, name: row.name, status: row.status });
      },
      { scope: "tenants:write" },
    );
}
