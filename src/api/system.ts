// Unversioned routes: health, and the dashboard's static files.
import { Elysia } from "elysia";
import type { ApiDeps } from "../app.ts";
import { dashboardResponse } from "../web-assets.ts";

export function systemRoutes(deps: ApiDeps) {
  return new Elysia({ name: "routes:system" })
    .get("/healthz", ({ set }) => {
      try {
        deps.db.query("SELECT 1").get();
        return { status: "ok" };
      } catch {
        set.status = 503;
        return { status: "store unavailable" };
      }
    })
    .get("/", ({ request }) => dashboardResponse("/", request))
    .get("/assets/*", ({ request }) => dashboardResponse(new URL(request.url).pathname, request));
}
