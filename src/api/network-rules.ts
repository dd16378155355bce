// HTTP routes of /api/v1 for: network rules (list, create, get, delete) of a tenant.
import { Elysia, t } from "elysia";
import type { ApiDeps } from "../app.ts";
import { auth } from "./plugins/auth.ts";
import { all, one } from "./plugins/envelope.ts";
import { bodyObject } from "./body.ts";
import { jsonBody } from "./plugins/json-body.ts";
import { createRule, deleteRule, getRule, listRules, ruleView } from "../core/network/rules.ts";

const listQuery = t.Object({
  direction: t.Optional(t.String()),
  status: t.Optional(t.String()),
});

export function networkRuleRoutes(deps: ApiDeps) {
  const json = jsonBody(deps.config.maxBodyBytes);
  return new Elysia({ name: "routes:network-rules" })
    .use(auth(deps))
    .get("/tenants/:id/network-rules", ({ principal, params, query }) => {
      return all(listRules(deps, principal, params.id, query).map((r) => ruleView(deps, r)));
    }, { scope: "network:read", query: listQuery })
    .post("/tenants/:id/network-rules", async ({ principal, params, body, set }) => {
      const row = await createRule(deps, principal, params.id, bodyObject(body));
      set.status = 201;
      return one(ruleView(deps, row));
    }, { scope: "network:write", parse: json }) // unknown fields: refused by core's parseRule
    .get("/tenants/:id/network-rules/:ruleId", ({ principal, params }) => one(ruleView(deps, getRule(deps, principal, params.id, params.ruleId))), { scope: "network:read" })
    .delete("/tenants/:id/network-rules/:ruleId", async ({ principal, params, set }) => {
      await deleteRule(deps, principal, params.id, params.ruleId);
      set.status = 204;
    }, { scope: "network:write" });
}
