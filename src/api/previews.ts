// HTTP routes of /api/v1 (extensions of the reference API): a tenant's pull request preview settings and its previews.
// Previews run the PR's code with the tenant's env (overrides included): the env scopes guard the settings.
import { Elysia } from "elysia";
import type { ApiDeps } from "./deps.ts";
import { auth } from "./plugins/auth.ts";
import { all, one } from "./plugins/envelope.ts";
import { bodyObject, coreField, strictBody } from "./body.ts";
import { jsonBody } from "./plugins/json-body.ts";
import { getSettings, listPreviews, putSettings } from "../core/previews/settings.ts";

const tag = (summary: string, description?: string) => ({ tags: ["Previews"], summary, ...(description ? { description } : {}) });

/** The settings' fields (values checked by core's parseSettings, each error naming its field); others are a 400 here. */
const settingsBody = strictBody({
  enabled: coreField("Deploy a preview tenant <name>-pr-<n> for each pull request to the tenant's repo and branch", {
    type: "boolean",
  }),
  allow_forks: coreField(
    "Also for pull requests from forks (default false): their code runs with the tenant's env, secrets included",
    { type: "boolean" },
  ),
  ttl_hours: coreField("A preview without a new commit for this long is deleted (1-2160, default 72)", {
    type: "integer",
    minimum: 1,
    maximum: 2160,
  }),
  env_overrides: coreField("Variables of previews: a string replaces the tenant's value, null removes the variable", {
    type: "object",
    additionalProperties: { type: ["string", "null"] },
  }),
});

export function previewRoutes(deps: ApiDeps) {
  return new Elysia({ name: "routes:previews" })
    .use(auth(deps))
    .get("/tenants/:id/previews", ({ principal, params }) => one(getSettings(deps, principal, params.id)), {
      scope: "env:read",
      detail: tag("Get the preview settings"),
    })
    .put(
      "/tenants/:id/previews",
      ({ principal, params, body }) => one(putSettings(deps, principal, params.id, bodyObject(body))),
      {
        scope: "env:write",
        parse: jsonBody(deps.config.maxBodyBytes),
        body: settingsBody,
        detail: tag(
          "Set the preview settings",
          "The fields given replace theirs; the others keep their value. Pull requests from forks run untrusted code with the tenant's env: allow_forks is off by default.",
        ),
      },
    )
    .get("/tenants/:id/previews/list", ({ principal, params }) => all(listPreviews(deps, principal, params.id)), {
      scope: "tenants:read",
      detail: tag("List the tenant's pull request previews"),
    });
}
