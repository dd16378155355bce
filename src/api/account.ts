// HTTP routes of /api/v1 for the account: POST /register (dashboard JWT, no provider needed), GET/PATCH /account.
import { Elysia, t } from "elysia";
import type { ApiDeps } from "./deps.ts";
import { auth, bearerToken } from "./plugins/auth.ts";
import { one } from "./plugins/envelope.ts";
import { getAccount, register, updateAccount } from "../core/identity/accounts.ts";
import { Unauthorized } from "../lib/errors.ts";
import { strictBody } from "./body.ts";
import { jsonBody } from "./plugins/json-body.ts";

const RegisterBody = strictBody({ email: t.String({ maxLength: 254 }), name: t.Optional(t.String({ maxLength: 200 })) });
// minProperties: Elysia turns a non-object body (`[]`, `42`) into {} when every field is optional; an
// update that changes nothing is refused rather than silently accepted.
const PatchBody = strictBody({ name: t.Optional(t.String({ maxLength: 200 })) }, { minProperties: 1 });

export function accountRoutes(deps: ApiDeps) {
  const json = jsonBody(deps.config.maxBodyBytes);
  return (
    new Elysia({ name: "routes:account" })
      .use(auth(deps))
      .post(
        "/register",
        async ({ request, body, set }) => {
          // Only a dashboard JWT may register: an API key already belongs to a provider.
          const token = bearerToken(request.headers.get("authorization"));
          const identify = deps.verifyJwt?.identify;
          if (token.startsWith("sk_") || !identify) throw new Unauthorized("Registering requires a dashboard JWT");
          const identity = await identify(token);
          const mode = request.headers.get("x-staxa-mode") === "test" ? "test" : "live";
          const { account, created } = register(deps.db, identity, body, mode);
          set.status = created ? 201 : 200;
          return one(account);
        },
        {
          body: RegisterBody,
          parse: json,
          // Authenticate before the body is validated, as the auth macro does for the other routes.
          transform({ request }) {
            bearerToken(request.headers.get("authorization"));
          },
        },
      )
      // The envelope literal rather than one(): Elysia compiles a handler whose source reads `=> f(` as async,
      // an await on every request of the API's hottest route.
      .get("/account", ({ principal }) => ({ data: getAccount(deps, principal), meta: {} as Record<string, unknown> }), {
        scope: "account:read",
      })
      .patch("/account", ({ principal, body }) => one(updateAccount(deps.db, principal, body)), {
        scope: "account:write",
        body: PatchBody,
        parse: json,
      })
  );
}
