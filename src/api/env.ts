// HTTP routes of /api/v1 for: environment variables (masked read, replace-all write, per-key patch).
import { Elysia } from "elysia";
import type { ApiDeps } from "../app.ts";
import { auth } from "./plugins/auth.ts";
import { all } from "./plugins/envelope.ts";
import { getEnv, patchEnv, putEnv } from "../core/tenants/env.ts";

export function envRoutes(deps: ApiDeps) {
  return new Elysia({ name: "routes:env" })
    .use(auth(deps))
    .get("/tenants/:id/env", ({ principal, params }) => all(getEnv(deps, principal, params.id)), { scope: "env:read" })
    .put("/tenants/:id/env", ({ principal, params, body, set }) => {
      const r = putEnv(deps, principal, params.id, body);
      // 202: the values are stored now; they reach the app through the redeploys listed in meta.
      set.status = 202;
      const res = all(r.env);
      res.meta.deployment_ids = r.deploymentIds;
      return res;
    }, { scope: "env:write" })
    // PATCH (an extension of the reference): single keys set or removed; the others, secrets included, stay as stored.
    .patch("/tenants/:id/env", ({ principal, params, body, set }) => {
      const r = patchEnv(deps, principal, params.id, body);
      set.status = 202; // as PUT: stored now, applied by the redeploys in meta (none when nothing changed)
      const res = all(r.env);
      res.meta.deployment_ids = r.deploymentIds;
      return res;
    }, {
      scope: "env:write",
      detail: {
        summary: "Set or remove single environment variables",
        description: 'Extension of the reference API. `{"set": {"LOG_LEVEL": "debug"}, "unset": ["OLD_FLAG"]}` changes only the named variables; ' +
          "every other value, secrets included, stays as stored, so a client never sends masked values back. A bad name is a 400 naming it " +
          "(`env.set.<KEY>`). Answers 202 with the masked list; each service is redeployed with its current image (`meta.deployment_ids`), " +
          "as with PUT, unless the patch changed nothing. PUT keeps the reference's replace-all semantics.",
      },
    });
}
