// HTTP routes of /api/v1/auth: the built-in dashboard login (status, first-admin setup, login, logout).
import { Elysia, t } from "elysia";
import type { ApiDeps } from "./deps.ts";
import { one } from "./plugins/envelope.ts";
import { login, setupAdmin, setupRequired } from "../core/identity/sessions.ts";
import { strictBody } from "./body.ts";
import { underFailureLimit } from "./plugins/auth.ts";
import { jsonBody } from "./plugins/json-body.ts";

const SetupBody = strictBody({
  token: t.String({ maxLength: 128 }),
  email: t.String({ maxLength: 254 }),
  password: t.String({ maxLength: 1024 }),
  name: t.Optional(t.String({ maxLength: 200 })),
});
const LoginBody = strictBody({ email: t.String({ maxLength: 254 }), password: t.String({ maxLength: 1024 }) });

export function sessionRoutes(deps: ApiDeps) {
  const json = jsonBody(deps.config.maxBodyBytes);
  return (
    new Elysia({ name: "routes:session", prefix: "/auth" })
      .get("/status", () => one({ setup_required: setupRequired(deps.db) }))
      .post(
        "/setup",
        async ({ body, set, store, request }) => {
          const out = await underFailureLimit(deps, store, request, () => setupAdmin(deps, body));
          set.status = 201;
          return one(out);
        },
        { body: SetupBody, parse: json },
      )
      // Wrong passwords count against the client address's failed-authentication limit (auth.ts).
      .post(
        "/login",
        async ({ body, store, request }) => one(await underFailureLimit(deps, store, request, () => login(deps, body))),
        { body: LoginBody, parse: json },
      )
      // Sessions are stateless JWTs that expire after STAXA_SESSION_TTL_SEC: logging out is the client
      // forgetting its token. The route exists so the dashboard has one place to call.
      .post("/logout", ({ set }) => {
        set.status = 204;
      })
  );
}
