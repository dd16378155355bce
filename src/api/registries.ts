// HTTP routes of /api/v1 for: registries. (Not yet built.)
import { Elysia } from "elysia";
import type { ApiDeps } from "../app.ts";

export function registryRoutes(_deps: ApiDeps) {
  return new Elysia({ name: "routes:registries" });
}
