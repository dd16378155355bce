// HTTP routes of /api/v1 for: session. (Not yet built.)
import { Elysia } from "elysia";
import type { ApiDeps } from "../app.ts";

export function sessionRoutes(_deps: ApiDeps) {
  return new Elysia({ name: "routes:session" });
}
