// HTTP routes of /api/v1 for API keys: list (prefix only), create (raw key shown once), delete (immediate).
import { Elysia, t } from "elysia";
import type { ApiDeps } from "./deps.ts";
import { auth } from "./plugins/auth.ts";
import { all, one } from "./plugins/envelope.ts";
import { createKeyFor, deleteKey, listKeys } from "../core/identity/keys.ts";
import { strictBody } from "./body.ts";
import { jsonBody } from "./plugins/json-body.ts";

const CreateBody = strictBody({
  name: t.String({ maxLength: 100 }),
  mode: t.Optional(t.String({ maxLength: 16 })),
  scopes: t.Optional(t.Array(t.String({ maxLength: 64 }), { maxItems: 64 })),
  expires_at: t.Optional(t.Union([t.String({ maxLength: 64 }), t.Null()])),
});

export function apiKeyRoutes(deps: ApiDeps) {
  return new Elysia({ name: "routes:api-keys" })
    .use(auth(deps))
    .get("/api-keys", ({ principal }) => all(listKeys(deps.db, principal)), { scope: "keys:read" })
    .post(
      "/api-keys",
      ({ principal, body, set }) => {
        const created = createKeyFor(deps.db, principal, body, deps.now());
        set.status = 201;
        return one(created);
      },
      { scope: "keys:write", body: CreateBody, parse: jsonBody(deps.config.maxBodyBytes) },
    )
    .delete(
      "/api-keys/:id",
      ({ principal, params, set }) => {
        deleteKey(deps, principal, params.id);
        set.status = 204;
      },
      { scope: "keys:write", params: t.Object({ id: t.String({ maxLength: 64 }) }) },
    );
}
