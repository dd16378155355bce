// HTTP routes of /api/v1 for: webhooks (endpoints, their recent deliveries, redelivery).
import { Elysia, t } from "elysia";
import type { ApiDeps } from "./deps.ts";
import { auth } from "./plugins/auth.ts";
import { one, page } from "./plugins/envelope.ts";
import * as core from "../core/webhooks/webhooks.ts";
import { pageQuery } from "./query.ts";
import { strictBody } from "./body.ts";
import { jsonBody } from "./plugins/json-body.ts";

const EVENTS_HELP = `Event names: ${core.WEBHOOK_EVENTS.join(", ")}`;

const Webhook = t.Object({
  id: t.String({ examples: ["whk_a1b2c3d4e5f6g7h8"] }),
  url: t.String(),
  events: t.Array(t.String()),
  description: t.Union([t.String(), t.Null()]),
  active: t.Boolean(),
  created_at: t.String(),
  updated_at: t.String(),
});

export const webhookModels = {
  create: strictBody({
    url: t.String({
      description: "https URL receiving POSTs (checked: no private, loopback or link-local addresses)",
      maxLength: 2048,
    }),
    events: t.Array(t.String(), { description: EVENTS_HELP }),
    description: t.Optional(t.String({ maxLength: 500 })),
  }),
  update: strictBody({
    url: t.Optional(t.String({ maxLength: 2048 })),
    events: t.Optional(t.Array(t.String(), { description: EVENTS_HELP })),
    description: t.Optional(t.Union([t.String({ maxLength: 500 }), t.Null()])),
    active: t.Optional(t.Boolean()),
  }),
  id: t.Object({ id: t.String() }),
  delivery: t.Object({ id: t.String(), deliveryId: t.String() }),
  pageQuery: pageQuery(),
  webhook: Webhook,
  created: t.Composite([Webhook, t.Object({ secret: t.String({ description: "whsec_…, shown once" }) })]),
};

export function webhookRoutes(deps: ApiDeps) {
  const m = webhookModels;
  const json = jsonBody(deps.config.maxBodyBytes);
  return new Elysia({ name: "routes:webhooks" })
    .use(auth(deps))
    .post(
      "/webhooks",
      async ({ principal, body, set }) => {
        const hook = await core.createWebhook(deps, principal, body);
        set.status = 201;
        return one(hook);
      },
      { scope: "webhooks:write", body: m.create, parse: json, detail: { tags: ["Webhooks"], summary: "Create Webhook" } },
    )
    .get(
      "/webhooks",
      ({ principal, query }) => {
        const { rows, total } = core.listWebhooks(deps, principal, query.limit, query.offset);
        return page(rows, total, query.limit, query.offset);
      },
      { scope: "webhooks:read", query: m.pageQuery, detail: { tags: ["Webhooks"], summary: "List Webhooks" } },
    )
    .get("/webhooks/:id", ({ principal, params }) => one(core.getWebhook(deps, principal, params.id)), {
      scope: "webhooks:read",
      params: m.id,
      detail: { tags: ["Webhooks"], summary: "Get Webhook" },
    })
    .patch(
      "/webhooks/:id",
      async ({ principal, params, body }) => one(await core.updateWebhook(deps, principal, params.id, body)),
      {
        scope: "webhooks:write",
        params: m.id,
        body: m.update,
        parse: json,
        detail: { tags: ["Webhooks"], summary: "Update Webhook" },
      },
    )
    .delete(
      "/webhooks/:id",
      ({ principal, params, set }) => {
        core.deleteWebhook(deps, principal, params.id);
        set.status = 204;
      },
      { scope: "webhooks:write", params: m.id, detail: { tags: ["Webhooks"], summary: "Delete Webhook" } },
    )
    .get(
      "/webhooks/:id/deliveries",
      ({ principal, params, query }) => {
        const { rows, total } = core.listDeliveries(deps, principal, params.id, query.limit, query.offset);
        return page(rows, total, query.limit, query.offset);
      },
      {
        scope: "webhooks:read",
        params: m.id,
        query: m.pageQuery,
        detail: { tags: ["Webhooks"], summary: "List Webhook Deliveries" },
      },
    )
    .post(
      "/webhooks/:id/deliveries/:deliveryId/redeliver",
      ({ principal, params, set }) => {
        const d = core.redeliver(deps, principal, params.id, params.deliveryId);
        set.status = 202;
        return one(d);
      },
      { scope: "webhooks:write", params: m.delivery, detail: { tags: ["Webhooks"], summary: "Redeliver Webhook Delivery" } },
    );
}
