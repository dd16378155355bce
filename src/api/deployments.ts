// HTTP routes of /api/v1 for: deployments. (Not yet built.)
import { Elysia } from "elysia";
import type { ApiDeps } from "../app.ts";

export function deploymentRoutes(_deps: ApiDeps) {
  return new Elysia({ name: "routes:deployments" });
}
