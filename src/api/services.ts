// HTTP routes of /api/v1 for: services (list, deploy one, deploy all, a service's deployments and logs).
import { Elysia, t } from "elysia";
import type { ApiDeps } from "../app.ts";
import { auth } from "./plugins/auth.ts";
import { all, one, page } from "./plugins/envelope.ts";
import { deployAll, deployService, listServices } from "../core/services.ts";
import { serviceView } from "../core/tenants.ts";
import { deploymentView, listDeployments } from "../core/deployments.ts";
import { containerLogs } from "../core/container-logs.ts";

const pageQuery = t.Object({
  limit: t.Optional(t.Numeric({ minimum: 1, maximum: 100 })),
  offset: t.Optional(t.Numeric({ minimum: 0 })),
});

export function serviceRoutes(deps: ApiDeps) {
  return new Elysia({ name: "routes:services" })
    .use(auth(deps))
    .get("/tenants/:id/services", ({ principal, params }) => {
      const r = listServices(deps, principal, params.id);
      return all(r.services.map((s) => serviceView(deps, r.tenant, s)));
    }, { scope: "tenants:read" })
    .post("/tenants/:id/deploy", ({ principal, params, set }) => {
      const r = deployAll(deps, principal, params.id);
      set.status = 202;
      const res = one({ tenant_id: r.tenant.id, status: r.tenant.status === "ready" ? "deploying" : r.tenant.status, services: r.deployments.map((d) => d.service_name) });
      res.meta.deployment_ids = r.deployments.map((d) => d.id);
      return res;
    }, { scope: "deployments:write" })
    .post("/tenants/:id/services/:name/deploy", ({ principal, params, set }) => {
      const row = deployService(deps, principal, params.id, params.name);
      set.status = 202;
      return one(deploymentView(row));
    }, { scope: "deployments:write" })
    .get("/tenants/:id/services/:name/deployments", ({ principal, params, query }) => {
      const limit = query.limit ?? 20;
      const offset = query.offset ?? 0;
      const { rows, total } = listDeployments(deps, principal, params.id, { limit, offset, service: params.name });
      return page(rows.map(deploymentView), total, limit, offset);
    }, { scope: "deployments:read", query: pageQuery })
    .get("/tenants/:id/services/:name/logs", async ({ principal, params, query }) => {
      const lines = query.lines === undefined ? 100 : /^\d+$/.test(query.lines) ? Number(query.lines) : NaN;
      const out: string[] = [];
      for await (const l of containerLogs(deps, principal, params.id, { lines, follow: false, signal: AbortSignal.timeout(10_000), service: params.name })) out.push(l);
      return new Response(out.join("\n") + (out.length ? "\n" : ""), { headers: { "content-type": "text/plain; charset=utf-8" } });
    }, { scope: "tenants:read", query: t.Object({ lines: t.Optional(t.String()) }) });
}
