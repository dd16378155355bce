// HTTP routes of /api/v1 for templates: the catalog (list shows summaries, get shows the details).
import { Elysia, t } from "elysia";
import type { ApiDeps } from "./deps.ts";
import { auth } from "./plugins/auth.ts";
import { all, one } from "./plugins/envelope.ts";
import { getTemplate, listTemplates, templateSummary } from "../core/tenants/templates.ts";

export function templateRoutes(deps: ApiDeps) {
  return new Elysia({ name: "routes:templates" })
    .use(auth(deps))
    .get("/templates", () => all(listTemplates().map(templateSummary)), { scope: "templates:read" })
    .get("/templates/:id", ({ params }) => one(getTemplate(params.id)), {
      scope: "templates:read",
      params: t.Object({ id: t.String({ maxLength: 64 }) }),
    });
}
