// HTTP routes of /api/v1 for: tenants. (Not yet built.)
import { Elysia } from "elysia";
import type { ApiDeps } from "../app.ts";

export function tenantRoutes(_deps: ApiDeps) {
  return new Elysia({ name: "routes:tenants" });
}
