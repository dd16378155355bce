// HTTP routes of /api/v1 for: services (list, add, scale, remove, deploy one, deploy all, a service's deployments and logs).
import { Elysia, t } from "elysia";
import type { ApiDeps } from "./deps.ts";
import { auth } from "./plugins/auth.ts";
import { all, one, page } from "./plugins/envelope.ts";
import { addService, deployAll, deployService, listServices, removeService, updateService } from "../core/tenants/services.ts";
import { serviceView } from "../core/tenants/tenants.ts";
import { deploymentView, listDeployments } from "../core/deploy/deployments.ts";
import { bodyObject, serviceFields, servicePatchBody, strictBody } from "./body.ts";
import { jsonBody } from "./plugins/json-body.ts";
import { logQuery, logResponse } from "./log-stream.ts";
import { pageQuery } from "./query.ts";

export function serviceRoutes(deps: ApiDeps) {
  const json = jsonBody(deps.config.maxBodyBytes);
  return new Elysia({ name: "routes:services" })
    .use(auth(deps))
    .get(
      "/tenants/:id/services",
      ({ principal, params }) => {
        const r = listServices(deps, principal, params.id);
        return all(r.services.map((s) => serviceView(deps, r.tenant, s)));
      },
      { scope: "tenants:read" },
    )
    .post(
      "/tenants/:id/services",
      ({ principal, params, body, set }) => {
        const r = addService(deps, principal, params.id, bodyObject(body));
        set.status = 202;
        const res = one(serviceView(deps, listServices(deps, principal, params.id).tenant, r.service));
        res.meta.deployment_id = r.deployment.id;
        return res;
      },
      { scope: "tenants:write", parse: json, body: strictBody(serviceFields) },
    )
    .patch(
      "/tenants/:id/services/:name",
      ({ principal, params, body, set }) => {
        const row = updateService(deps, principal, params.id, params.name, bodyObject(body));
        set.status = 202; // replicas start or stop in the background
        return one(serviceView(deps, listServices(deps, principal, params.id).tenant, row));
      },
      { scope: "tenants:write", parse: json, body: servicePatchBody },
    )
    .delete(
      "/tenants/:id/services/:name",
      async ({ principal, params, set }) => {
        await removeService(deps, principal, params.id, params.name);
        set.status = 204;
      },
      { scope: "tenants:write" },
    )
    .post(
      "/tenants/:id/deploy",
      ({ principal, params, set }) => {
        const r = deployAll(deps, principal, params.id);
        set.status = 202;
        const res = one({ tenant_id: r.tenant.id, status: "deploying", services: r.deployments.map((d) => d.service_name) });
        res.meta.deployment_ids = r.deployments.map((d) => d.id);
        return res;
      },
      { scope: "deployments:write" },
    )
    .post(
      "/tenants/:id/services/:name/deploy",
      ({ principal, params, set }) => {
        const row = deployService(deps, principal, params.id, params.name);
        set.status = 202;
        return one(deploymentView(row));
      },
      { scope: "deployments:write" },
    )
    .get(
      "/tenants/:id/services/:name/deployments",
      ({ principal, params, query }) => {
        const { rows, total } = listDeployments(deps, principal, params.id, {
          limit: query.limit,
          offset: query.offset,
          service: params.name,
        });
        return page(rows.map(deploymentView), total, query.limit, query.offset);
      },
      { scope: "deployments:read", query: pageQuery() },
    )
    .get(
      "/tenants/:id/services/:name/logs",
      ({ principal, params, query, request, store }) =>
        logResponse(
          deps,
          principal,
          { endpoint: "service", tenantId: params.id, service: params.name, lines: query.lines, follow: query.follow },
          request,
          store,
        ),
      { scope: "tenants:read", query: logQuery("service") },
    );
}
