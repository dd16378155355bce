// Unversioned routes: health, and the dashboard's static files.
import { Elysia } from "elysia";
import type { ApiDeps } from "./deps.ts";
import { dashboardResponse, wantsDashboard } from "../web-assets.ts";
import { NotFound } from "../lib/errors.ts";

export function systemRoutes(deps: ApiDeps) {
  return (
    new Elysia({ name: "routes:system" })
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
      .get("/assets/*", ({ request }) => dashboardResponse(new URL(request.url).pathname, request))
      // History-routed dashboard pages (/tenants/ten_x, ...) load the SPA shell; every other unknown
      // GET, /api/v1/* included, keeps the JSON 404 envelope.
      .get("/*", ({ request }) => {
        const path = new URL(request.url).pathname;
        if (wantsDashboard(path, request)) return dashboardResponse(path, request);
        throw new NotFound(`Route GET ${path}`);
      })
  );
}
