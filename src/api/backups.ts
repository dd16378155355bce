// HTTP routes of /api/v1 (extensions of the reference API): a tenant's volume backups, on demand and on a schedule,
// their restore and deletion. A restore replaces the service's data: tenants:write guards every change.
import { Elysia, t } from "elysia";
import type { ApiDeps } from "./deps.ts";
import { auth } from "./plugins/auth.ts";
import { all, one } from "./plugins/envelope.ts";
import { bodyObject, coreField, optionalBodyObject, strictBody } from "./body.ts";
import { jsonBody } from "./plugins/json-body.ts";
import { backupView, createBackups, deleteBackup, listBackups, restoreBackup } from "../core/backups/backups.ts";
import { deleteSchedule, getSchedule, putSchedule, scheduleView } from "../core/backups/schedule.ts";

const tag = (summary: string) => ({ tags: ["Backups"], summary });

// Optional: an empty body backs up every service holding data.
const createBody = t.Optional(
  strictBody({
    service: coreField("The service to back up (default: every service with a volume, and every Postgres)", { type: "string" }),
  }),
);
const scheduleBody = strictBody({
  cron: coreField(
    "5-field cron expression (minute hour day-of-month month day-of-week) or @daily etc., in UTC; no seconds field",
    {
      type: "string",
      required: true,
    },
  ),
  keep: coreField("Scheduled backups kept per service, 1-100 (default 7); backups made on demand are never pruned", {
    type: "integer",
    minimum: 1,
    maximum: 100,
  }),
});

export function backupRoutes(deps: ApiDeps) {
  const json = jsonBody(deps.config.maxBodyBytes);
  return new Elysia({ name: "routes:backups" })
    .use(auth(deps))
    .get("/tenants/:id/backups", ({ principal, params }) => all(listBackups(deps, principal, params.id).map(backupView)), {
      scope: "tenants:read",
      detail: tag("List a tenant's backups, newest first"),
    })
    .post(
      "/tenants/:id/backups",
      ({ principal, params, body, set }) => {
        const rows = createBackups(deps, principal, params.id, optionalBodyObject(body));
        set.status = 202;
        return all(rows.map(backupView));
      },
      { scope: "tenants:write", parse: json, body: createBody, detail: tag("Back up now (one backup per service, queued)") },
    )
    .get("/tenants/:id/backups/schedule", ({ principal, params }) => one(scheduleView(getSchedule(deps, principal, params.id))), {
      scope: "tenants:read",
      detail: tag("Get the backup schedule"),
    })
    .put(
      "/tenants/:id/backups/schedule",
      ({ principal, params, body }) => one(scheduleView(putSchedule(deps, principal, params.id, bodyObject(body)))),
      { scope: "tenants:write", parse: json, body: scheduleBody, detail: tag("Set the backup schedule (cron, keep)") },
    )
    .delete(
      "/tenants/:id/backups/schedule",
      ({ principal, params, set }) => {
        deleteSchedule(deps, principal, params.id);
        set.status = 204;
      },
      { scope: "tenants:write", detail: tag("Remove the backup schedule (its backups stay)") },
    )
    .post(
      "/tenants/:id/backups/:backupId/restore",
      ({ principal, params, set }) => {
        set.status = 202;
        return one(backupView(restoreBackup(deps, principal, params.id, params.backupId)));
      },
      { scope: "tenants:write", detail: tag("Restore a backup into its service (replaces the service's data)") },
    )
    .delete(
      "/tenants/:id/backups/:backupId",
      ({ principal, params, set }) => {
        deleteBackup(deps, principal, params.id, params.backupId);
        set.status = 204;
      },
      { scope: "tenants:write", detail: tag("Delete a backup and its file") },
    );
}
