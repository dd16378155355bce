// HTTP routes of /api/v1 for: deployments (list, create, get, build log, rollback).
import { Elysia, t } from "elysia";
import type { ApiDeps } from "../app.ts";
import { auth } from "./plugins/auth.ts";
import { one, page } from "./plugins/envelope.ts";
import { buildLog, createDeployment, deploymentView, getDeployment, listDeployments, rollback } from "../core/deploy/deployments.ts";
import { bodyObject } from "./tenants.ts";

const pageQuery = t.Object({
  limit: t.Optional(t.Numeric({ minimum: 1, maximum: 100 })),
  offset: t.Optional(t.Numeric({ minimum: 0 })),
});

export function deploymentRoutes(deps: ApiDeps) {
  return new Elysia({ name: "routes:deployments" })
    .use(auth(deps))
    .get("/tenants/:id/deployments", ({ principal, params, query }) => {
      const limit = query.limit ?? 20;
      const offset = query.offset ?? 0;
      const { rows, total } = listDeployments(deps, principal, params.id, { limit, offset });
      return page(rows.map(deploymentView), total, limit, offset);
    }, { scope: "deployments:read", query: pageQuery })
    .post("/tenants/:id/deployments", ({ principal, params, body, set }) => {
      const row = createDeployment(deps, principal, params.id, body === undefined || body === "" ? {} : bodyObject(body));
      set.status = 202;
      return one(deploymentView(row));
    }, { scope: "deployments:write" })
    .get("/tenants/:id/deployments/:depId", ({ principal, params }) => one(deploymentView(getDeployment(deps, principal, params.id, params.depId))), { scope: "deployments:read" })
    .get("/tenants/:id/deployments/:depId/logs", ({ principal, params }) =>
      new Response(buildLog(deps, principal, params.id, params.depId), { headers: { "content-type": "text/plain; charset=utf-8" } }),
    { scope: "deployments:read" })
    .post("/tenants/:id/deployments/:depId/rollback", ({ principal, params, set }) => {
      const row = rollback(deps, principal, params.id, params.depId);
      set.status = 202;
      return one(deploymentView(row));
    }, { scope: "deployments:write" });
}
