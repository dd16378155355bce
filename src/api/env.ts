// HTTP routes of /api/v1 for: environment variables (masked read, replace-all write, per-key patch).
import { Elysia } from "elysia";
import type { ApiDeps } from "./deps.ts";
import { auth } from "./plugins/auth.ts";
import { all } from "./plugins/envelope.ts";
import { getEnv, patchEnv, putEnv } from "../core/tenants/env.ts";
import { jsonBody } from "./plugins/json-body.ts";
import { bodyObject, coreField, strictBody } from "./body.ts";

/** PATCH (an extension of the reference): single keys set or removed; the others, secrets included, stay as stored. */
const patchBody = strictBody({
  set: coreField("Variables to set, as key-value pairs (string values); the others are kept", {
    type: "object",
    additionalProperties: { type: "string" },
  }),
  unset: coreField("Names of variables to remove", { type: "array", items: { type: "string" } }),
});

export function envRoutes(deps: ApiDeps) {
  const json = jsonBody(deps.config.maxBodyBytes);
  return new Elysia({ name: "routes:env" })
    .use(auth(deps))
    .get("/tenants/:id/env", ({ principal, params }) => all(getEnv(deps, principal, params.id)), { scope: "env:read" })
    .put(
      "/tenants/:id/env",
      ({ principal, params, body, set }) => {
        const r = putEnv(deps, principal, params.id, bodyObject(body));
        // 202: the values are stored now; they reach the app through the redeploys listed in meta.
        set.status = 202;
        const res = all(r.env);
        res.meta.deployment_ids = r.deploymentIds;
        return res;
      },
      { scope: "env:write", parse: json },
    ) // any key is a variable name: core checks each
    .patch(
      "/tenants/:id/env",
      ({ principal, params, body, set }) => {
        const r = patchEnv(deps, principal, params.id, bodyObject(body));
        set.status = 202; // as PUT: stored now, applied by the redeploys in meta (none when nothing changed)
        const res = all(r.env);
        res.meta.deployment_ids = r.deploymentIds;
        return res;
      },
      {
        scope: "env:write",
        parse: json,
        body: patchBody,
        detail: {
          summary: "Set or remove single environment variables",
          description:
            'Extension of the reference API. `{"set": {"LOG_LEVEL": "debug"}, "unset": ["OLD_FLAG"]}` changes only the named variables; ' +
            "every other value, secrets included, stays as stored, so a client never sends masked values back. A bad name is a 400 naming it " +
            "(`env.set.<KEY>`). Answers 202 with the masked list; each service is redeployed with its current image (`meta.deployment_ids`), " +
            "as with PUT, unless the patch changed nothing. PUT keeps the reference's replace-all semantics.",
        },
      },
    );
}
