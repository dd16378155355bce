// HTTP routes of /api/v1 for: env. (Not yet built.)
import { Elysia } from "elysia";
import type { ApiDeps } from "../app.ts";

export function envRoutes(_deps: ApiDeps) {
  return new Elysia({ name: "routes:env" });
}
