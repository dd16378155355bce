// HTTP routes of /api/v1 for: environment variables (masked read, replace-all write).
import { Elysia } from "elysia";
import type { ApiDeps } from "../app.ts";
import { auth } from "./plugins/auth.ts";
import { all } from "./plugins/envelope.ts";
import { getEnv, putEnv } from "../core/tenants/env.ts";

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
    }, { scope: "env:write" });
}
