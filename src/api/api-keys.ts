// HTTP routes of /api/v1 for: api-keys. (Not yet built.)
import { Elysia } from "elysia";
import type { ApiDeps } from "../app.ts";

export function apiKeyRoutes(_deps: ApiDeps) {
  return new Elysia({ name: "routes:api-keys" });
}
