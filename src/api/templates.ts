// HTTP routes of /api/v1 for: templates. (Not yet built.)
import { Elysia } from "elysia";
import type { ApiDeps } from "../app.ts";

export function templateRoutes(_deps: ApiDeps) {
  return new Elysia({ name: "routes:templates" });
}
