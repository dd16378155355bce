// HTTP routes of /api/v1 for: custom domains (list with server_ip, add, verify through DNS, delete).
import { Elysia } from "elysia";
import type { ApiDeps } from "./deps.ts";
import { auth } from "./plugins/auth.ts";
import { one } from "./plugins/envelope.ts";
import { bodyObject, coreField, strictBody } from "./body.ts";
import { jsonBody } from "./plugins/json-body.ts";
import { addDomain, deleteDomain, domainView, listDomains, verifyDomain } from "../core/domains/domains.ts";

const addBody = strictBody({
  domain: coreField("Required. Custom domain name", { type: "string", required: true }),
  is_primary: coreField("Set as primary domain. Defaults to false.", { type: "boolean" }),
  service_id: coreField("Route to a specific service (its id or name; multi-service tenants)", { type: "string" }),
});

export function domainRoutes(deps: ApiDeps) {
  const json = jsonBody(deps.config.maxBodyBytes);
  return new Elysia({ name: "routes:domains" })
    .use(auth(deps))
    .get(
      "/tenants/:id/domains",
      ({ principal, params }) => {
        const r = listDomains(deps, principal, params.id);
        return one({ domains: r.domains.map((d) => domainView(deps, r.tenant, d)), server_ip: deps.config.publicIp });
      },
      { scope: "domains:read" },
    )
    .post(
      "/tenants/:id/domains",
      ({ principal, params, body, set }) => {
        const r = addDomain(deps, principal, params.id, bodyObject(body));
        set.status = 201;
        return one(domainView(deps, r.tenant, r.domain));
      },
      { scope: "domains:write", parse: json, body: addBody },
    )
    .post(
      "/tenants/:id/domains/:domId/verify",
      async ({ principal, params }) => {
        const r = await verifyDomain(deps, principal, params.id, params.domId);
        return one(domainView(deps, r.tenant, r.domain));
      },
      { scope: "domains:write" },
    )
    .delete(
      "/tenants/:id/domains/:domId",
      async ({ principal, params, set }) => {
        await deleteDomain(deps, principal, params.id, params.domId);
        set.status = 204;
      },
      { scope: "domains:write" },
    );
}
