// HTTP routes of /api/v1 for: webhooks. (Not yet built.)
import { Elysia } from "elysia";
import type { ApiDeps } from "../app.ts";

export function webhookRoutes(_deps: ApiDeps) {
  return new Elysia({ name: "routes:webhooks" });
}
