// HTTP routes of /api/v1 for: realtime. (Not yet built.)
import { Elysia } from "elysia";
import type { ApiDeps } from "../app.ts";

export function realtimeRoutes(_deps: ApiDeps) {
  return new Elysia({ name: "routes:realtime" });
}
