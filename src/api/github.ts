// HTTP routes of /api/v1 for: github. (Not yet built.)
import { Elysia } from "elysia";
import type { ApiDeps } from "../app.ts";

export function githubRoutes(_deps: ApiDeps) {
  return new Elysia({ name: "routes:github" });
}
