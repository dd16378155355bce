// HTTP routes of /api/v1 (extensions of the reference API): scheduled jobs of a tenant and their runs,
// and the tenant's live resource usage. Jobs run code with the tenant's env: deployments scopes guard them.
import { Elysia } from "elysia";
import type { ApiDeps } from "./deps.ts";
import { auth } from "./plugins/auth.ts";
import { all, one } from "./plugins/envelope.ts";
import { bodyObject, coreField, strictBody } from "./body.ts";
import { jsonBody } from "./plugins/json-body.ts";
import {
  createJob,
  deleteJob,
  getJob,
  getRun,
  jobView,
  listJobs,
  listRuns,
  runNow,
  runView,
  setPaused,
} from "../core/jobs/jobs.ts";
import { tenantUsage } from "../core/usage/view.ts";

const tag = (summary: string) => ({ tags: ["Jobs"], summary });

/** The job body's fields (values checked by core's parseJob, each error naming its field); others are a 400 here. */
const jobBody = strictBody({
  schedule: coreField(
    "5-field cron expression (minute hour day-of-month month day-of-week) or @hourly etc., in UTC; no seconds field",
    { type: "string", required: true },
  ),
  command: coreField("argv array of strings run in the container (replaces the image's CMD; no shell is added)", {
    type: "array",
    items: { type: "string" },
    required: true,
  }),
  service: coreField("the service whose current image, env and limits the runs use", { type: "string", required: true }),
  timeout_sec: coreField("1-86400, default 3600", { type: "integer", minimum: 1, maximum: 86400 }),
  concurrency_policy: coreField("forbid (default) | allow | replace", { type: "string", enum: ["forbid", "allow", "replace"] }),
  paused: coreField("boolean, default false", { type: "boolean" }),
});

export function jobRoutes(deps: ApiDeps) {
  const json = jsonBody(deps.config.maxBodyBytes);
  return new Elysia({ name: "routes:jobs" })
    .use(auth(deps))
    .get("/tenants/:id/jobs", ({ principal, params }) => all(listJobs(deps, principal, params.id).map(jobView)), {
      scope: "deployments:read",
      detail: tag("List scheduled jobs"),
    })
    .post(
      "/tenants/:id/jobs",
      ({ principal, params, body, set }) => {
        const row = createJob(deps, principal, params.id, bodyObject(body));
        set.status = 201;
        return one(jobView(row));
      },
      {
        scope: "deployments:write",
        parse: json,
        body: jobBody,
        detail: {
          ...tag("Create a scheduled job"),
          description:
            "Body: schedule (5-field cron, UTC), command (argv array), service, timeout_sec (default 3600), concurrency_policy (forbid|allow|replace, default forbid), paused.",
        },
      },
    )
    .get("/tenants/:id/jobs/:jobId", ({ principal, params }) => one(jobView(getJob(deps, principal, params.id, params.jobId))), {
      scope: "deployments:read",
      detail: tag("Get a scheduled job"),
    })
    .delete(
      "/tenants/:id/jobs/:jobId",
      async ({ principal, params, set }) => {
        await deleteJob(deps, principal, params.id, params.jobId);
        set.status = 204;
      },
      { scope: "deployments:write", detail: tag("Delete a scheduled job (a run going is stopped)") },
    )
    .post(
      "/tenants/:id/jobs/:jobId/pause",
      ({ principal, params }) => one(jobView(setPaused(deps, principal, params.id, params.jobId, true))),
      { scope: "deployments:write", detail: tag("Pause a job") },
    )
    .post(
      "/tenants/:id/jobs/:jobId/resume",
      ({ principal, params }) => one(jobView(setPaused(deps, principal, params.id, params.jobId, false))),
      { scope: "deployments:write", detail: tag("Resume a job from its next fire") },
    )
    .post(
      "/tenants/:id/jobs/:jobId/run",
      async ({ principal, params, set }) => {
        const run = await runNow(deps, principal, params.id, params.jobId);
        set.status = 202;
        return one(runView(run));
      },
      {
        scope: "deployments:write",
        detail: tag("Run a job now (its concurrency policy applies: forbid answers 409 while a run is going)"),
      },
    )
    .get(
      "/tenants/:id/jobs/:jobId/runs",
      ({ principal, params }) => all(listRuns(deps, principal, params.id, params.jobId).map((r) => runView(r))),
      { scope: "deployments:read", detail: tag("List a job's runs, newest first (the last 50)") },
    )
    .get(
      "/tenants/:id/jobs/:jobId/runs/:runId",
      ({ principal, params }) => one(runView(getRun(deps, principal, params.id, params.jobId, params.runId), true)),
      {
        scope: "deployments:read",
        detail: tag("Get one run with the tail of its logs (200 lines, 64 KiB)"),
      },
    )
    .get("/tenants/:id/usage", ({ principal, params }) => one(tenantUsage(deps, principal, params.id)), {
      scope: "tenants:read",
      detail: { tags: ["Usage"], summary: "Live resource usage per service: current sample and a short history, with flags" },
    });
}
