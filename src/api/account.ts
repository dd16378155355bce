// HTTP routes of /api/v1 for: account. (Not yet built.)
import { Elysia } from "elysia";
import type { ApiDeps } from "../app.ts";

export function accountRoutes(_deps: ApiDeps) {
  return new Elysia({ name: "routes:account" });
}
