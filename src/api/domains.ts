// HTTP routes of /api/v1 for: domains. (Not yet built.)
import { Elysia } from "elysia";
import type { ApiDeps } from "../app.ts";

export function domainRoutes(_deps: ApiDeps) {
  return new Elysia({ name: "routes:domains" });
}
