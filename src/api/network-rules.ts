// HTTP routes of /api/v1 for: network rules (list, create, get, delete) of a tenant.
import { Elysia, t } from "elysia";
import type { ApiDeps } from "./deps.ts";
import { auth } from "./plugins/auth.ts";
import { all, one } from "./plugins/envelope.ts";
import { bodyObject, coreField, strictBody } from "./body.ts";
import { jsonBody } from "./plugins/json-body.ts";
import { createRule, deleteRule, getRule, listRules, ruleView } from "../core/network/rules.ts";

const str = { type: "string" };
const strings = { type: "array", items: str };
const port = { type: "integer", minimum: 1, maximum: 65535 };
/** Strict (a field it does not list is a 400 naming it); the values are checked by core's parseRule. */
const ruleBody = strictBody({
  direction: coreField('Required. "inbound" or "outbound"', { type: "string", enum: ["inbound", "outbound"], required: true }),
  protocol: coreField('"tcp" (default) or "udp"', { type: "string", enum: ["tcp", "udp"] }),
  target_service: coreField("Inbound: the service the port leads to", str),
  target_port: coreField("Inbound: the service's port (1-65535)", port),
  source_cidrs: coreField("Inbound: CIDRs allowed to connect", strings),
  destination_cidrs: coreField("Outbound: CIDRs the tenant may reach", strings),
  destination_port: coreField("Outbound: the port it may reach", port),
  ttl_hours: coreField("Hours until the rule expires", { type: "integer", minimum: 1 }),
  description: coreField("What the rule is for", str),
});
const listQuery = t.Object({
  direction: t.Optional(t.String()),
  status: t.Optional(t.String()),
});

export function networkRuleRoutes(deps: ApiDeps) {
  const json = jsonBody(deps.config.maxBodyBytes);
  return new Elysia({ name: "routes:network-rules" })
    .use(auth(deps))
    .get(
      "/tenants/:id/network-rules",
      ({ principal, params, query }) => {
        return all(listRules(deps, principal, params.id, query).map((r) => ruleView(deps, r)));
      },
      { scope: "network:read", query: listQuery },
    )
    .post(
      "/tenants/:id/network-rules",
      async ({ principal, params, body, set }) => {
        const row = await createRule(deps, principal, params.id, bodyObject(body));
        set.status = 201;
        return one(ruleView(deps, row));
      },
      { scope: "network:write", parse: json, body: ruleBody },
    )
    .get(
      "/tenants/:id/network-rules/:ruleId",
      ({ principal, params }) => one(ruleView(deps, getRule(deps, principal, params.id, params.ruleId))),
      { scope: "network:read" },
    )
    .delete(
      "/tenants/:id/network-rules/:ruleId",
      async ({ principal, params, set }) => {
        await deleteRule(deps, principal, params.id, params.ruleId);
        set.status = 204;
      },
      { scope: "network:write" },
    );
}
