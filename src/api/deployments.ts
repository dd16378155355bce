// HTTP routes of /api/v1 for: deployments (list, create, get, build log, rollback).
import { Elysia, t } from "elysia";
import type { ApiDeps } from "./deps.ts";
import { auth } from "./plugins/auth.ts";
import { one, page } from "./plugins/envelope.ts";
import {
  buildLog,
  createDeployment,
  deploymentView,
  getDeployment,
  listDeployments,
  rollback,
} from "../core/deploy/deployments.ts";
import { cancelDeployment } from "../core/deploy/cancel.ts";
import { buildCapacity } from "../core/deploy/disk.ts";
import { coreField, optionalBodyObject, strictBody } from "./body.ts";
import { jsonBody } from "./plugins/json-body.ts";
import { pageQuery } from "./query.ts";

// Optional: an empty body deploys the branch the tenant tracks.
const createBody = t.Optional(
  strictBody({
    branch: coreField("Branch to deploy (git-sourced tenants)", { type: "string" }),
    commit_sha: coreField("Commit to deploy (7 to 64 hex characters)", { type: "string" }),
  }),
);

export function deploymentRoutes(deps: ApiDeps) {
  const json = jsonBody(deps.config.maxBodyBytes);
  return (
    new Elysia({ name: "routes:deployments" })
      .use(auth(deps))
      .get(
        "/tenants/:id/deployments",
        ({ principal, params, query }) => {
          const { rows, total } = listDeployments(deps, principal, params.id, query);
          return page(rows.map(deploymentView), total, query.limit, query.offset);
        },
        { scope: "deployments:read", query: pageQuery() },
      )
      .post(
        "/tenants/:id/deployments",
        ({ principal, params, body, set }) => {
          const row = createDeployment(deps, principal, params.id, optionalBodyObject(body));
          set.status = 202;
          return one(deploymentView(row));
        },
        { scope: "deployments:write", parse: json, body: createBody },
      )
      .get(
        "/tenants/:id/deployments/:depId",
        ({ principal, params }) => one(deploymentView(getDeployment(deps, principal, params.id, params.depId))),
        { scope: "deployments:read" },
      )
      .get(
        "/tenants/:id/deployments/:depId/logs",
        ({ principal, params }) =>
          new Response(buildLog(deps, principal, params.id, params.depId), {
            headers: { "content-type": "text/plain; charset=utf-8" },
          }),
        { scope: "deployments:read" },
      )
      .post(
        "/tenants/:id/deployments/:depId/rollback",
        async ({ principal, params, set }) => {
          const row = await rollback(deps, principal, params.id, params.depId);
          set.status = 202;
          return one(deploymentView(row));
        },
        { scope: "deployments:write" },
      )
      // Extensions (not in the reference): cancel a deployment; whether builds may run now (the disk guard).
      .post(
        "/tenants/:id/deployments/:depId/cancel",
        ({ principal, params, set }) => {
          const row = cancelDeployment(deps, principal, params.id, params.depId);
          set.status = 202;
          return one(deploymentView(row));
        },
        {
          scope: "deployments:write",
          detail: {
            summary: "Cancel a deployment (extension)",
            description:
              'Extension of the Staxa API. A queued deployment never starts; a building or deploying one has its build, pull or candidate container stopped while the current version keeps serving. It ends `failed` with the reason "cancelled by <key id>". 409 `deployment_finished` when it has already succeeded or failed.',
          },
        },
      )
      .get("/build-capacity", async () => one(await buildCapacity(deps)), {
        scope: "deployments:read",
        detail: {
          summary: "Build capacity (extension)",
          description:
            "Extension of the Staxa API. Whether new builds may run now: free space on Docker's data root and the data dir against STAXA_MIN_FREE_DISK_MB (below it, builds are refused and the appliance prunes).",
        },
      })
  );
}
