// HTTP routes of /api/v1 for: network-rules. (Not yet built.)
import { Elysia } from "elysia";
import type { ApiDeps } from "../app.ts";

export function networkRuleRoutes(_deps: ApiDeps) {
  return new Elysia({ name: "routes:network-rules" });
}
