// HTTP routes of /api/v1 for: services. (Not yet built.)
import { Elysia } from "elysia";
import type { ApiDeps } from "../app.ts";

export function serviceRoutes(_deps: ApiDeps) {
  return new Elysia({ name: "routes:services" });
}
