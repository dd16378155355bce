// HTTP routes of /api/v1 for: deployments (list, create, get, build log, rollback).
import { Elysia, t } from "elysia";
import type { ApiDeps } from "../app.ts";
import { auth } from "./plugins/auth.ts";
import { one, page } from "./plugins/envelope.ts";
import { buildLog, createDeployment, deploymentView, getDeployment, listDeployments, rollback } from "../core/deploy/deployments.ts";
import { coreField, optionalBodyObject, strictBody } from "./body.ts";
import { jsonBody } from "./plugins/json-body.ts";
import { pageQuery } from "./query.ts";

// Optional: an empty body deploys the branch the tenant tracks.
const createBody = t.Optional(strictBody({
  branch: coreField("Branch to deploy (git-sourced tenants)"),
  commit_sha: coreField("Commit to deploy (7 to 64 hex characters)"),
}));

export function deploymentRoutes(deps: ApiDeps) {
  const json = jsonBody(deps.config.maxBodyBytes);
  return new Elysia({ name: "routes:deployments" })
    .use(auth(deps))
    .get("/tenants/:id/deployments", ({ principal, params, query }) => {
      const { rows, total } = listDeployments(deps, principal, params.id, query);
      return page(rows.map(deploymentView), total, query.limit, query.offset);
    }, { scope: "deployments:read", query: pageQuery() })
    .post("/tenants/:id/deployments", ({ principal, params, body, set }) => {
      const row = createDeployment(deps, principal, params.id, optionalBodyObject(body));
      set.status = 202;
      return one(deploymentView(row));
    }, { scope: "deployments:write", parse: json, body: createBody })
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
