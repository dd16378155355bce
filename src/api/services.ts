// HTTP routes of /api/v1 for: services (list, add, remove, deploy one, deploy all, a service's deployments and logs).
import { Elysia, t } from "elysia";
import type { ApiDeps } from "../app.ts";
import { auth } from "./plugins/auth.ts";
import { all, one, page } from "./plugins/envelope.ts";
import { addService, deployAll, deployService, listServices, removeService } from "../core/tenants/services.ts";
import { serviceView } from "../core/tenants/tenants.ts";
import { deploymentView, listDeployments } from "../core/deploy/deployments.ts";
import { containerLogs, MAX_LOG_LINES } from "../core/tenants/container-logs.ts";
import { Invalid } from "../lib/errors.ts";
import { bodyObject, serviceFields, strictBody } from "./body.ts";
import { jsonBody } from "./plugins/json-body.ts";
import { streamSlotsFor } from "./stream-slots.ts";
import { keepOpen } from "./realtime.ts";
import { intParam, pageQuery } from "./query.ts";

const enc = new TextEncoder();

/** Log lines as SSE `data:` frames; a client going away aborts `ac`, which ends the Docker stream. */
function sseLines(lines: AsyncIterable<string>, ac: AbortController): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        controller.enqueue(enc.encode("retry: 5000\n\n"));
        for await (const line of lines) {
          if (ac.signal.aborted) break;
          controller.enqueue(enc.encode(line.replace(/\r?\n$/, "").split(/\r?\n/).map((l) => `data: ${l}\n`).join("") + "\n"));
        }
      } catch (e) {
        if (!ac.signal.aborted) controller.enqueue(enc.encode(`event: error\ndata: log stream ended: ${(e as Error).message}\n\n`));
      } finally {
        try {
          controller.close();
        } catch {
          // cancelled by the client
        }
      }
    },
    cancel() {
      ac.abort();
    },
  });
}

export function serviceRoutes(deps: ApiDeps) {
  const json = jsonBody(deps.config.maxBodyBytes);
  return new Elysia({ name: "routes:services" })
    .use(auth(deps))
    .get("/tenants/:id/services", ({ principal, params }) => {
      const r = listServices(deps, principal, params.id);
      return all(r.services.map((s) => serviceView(deps, r.tenant, s)));
    }, { scope: "tenants:read" })
    .post("/tenants/:id/services", ({ principal, params, body, set }) => {
      const r = addService(deps, principal, params.id, bodyObject(body));
      set.status = 202;
      const res = one(serviceView(deps, listServices(deps, principal, params.id).tenant, r.service));
      res.meta.deployment_id = r.deployment.id;
      return res;
    }, { scope: "tenants:write", parse: json, body: strictBody(serviceFields) })
    .delete("/tenants/:id/services/:name", async ({ principal, params, set }) => {
      await removeService(deps, principal, params.id, params.name);
      set.status = 204;
    }, { scope: "tenants:write" })
    .post("/tenants/:id/deploy", ({ principal, params, set }) => {
      const r = deployAll(deps, principal, params.id);
      set.status = 202;
      const res = one({ tenant_id: r.tenant.id, status: "deploying", services: r.deployments.map((d) => d.service_name) });
      res.meta.deployment_ids = r.deployments.map((d) => d.id);
      return res;
    }, { scope: "deployments:write" })
    .post("/tenants/:id/services/:name/deploy", ({ principal, params, set }) => {
      const row = deployService(deps, principal, params.id, params.name);
      set.status = 202;
      return one(deploymentView(row));
    }, { scope: "deployments:write" })
    .get("/tenants/:id/services/:name/deployments", ({ principal, params, query }) => {
      const { rows, total } = listDeployments(deps, principal, params.id, { limit: query.limit, offset: query.offset, service: params.name });
      return page(rows.map(deploymentView), total, query.limit, query.offset);
    }, { scope: "deployments:read", query: pageQuery() })
    .get("/tenants/:id/services/:name/logs", async ({ principal, params, query, request, store }) => {
      if (query.follow !== undefined && !["true", "false", "1", "0"].includes(query.follow)) throw new Invalid("follow", "follow must be true or false");
      if (query.follow === "true" || query.follow === "1") {
        const ac = new AbortController();
        request.signal.addEventListener("abort", () => ac.abort(), { once: true });
        const it = containerLogs(deps, principal, params.id, { lines: query.lines, follow: true, signal: ac.signal, service: params.name });
        keepOpen(store, request); // a quiet log must not be cut by the server's idle timeout
        const body = streamSlotsFor(deps).guard(principal.providerId, "logs", () => sseLines(it, ac), request.signal);
        return new Response(body, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no" } });
      }
      const out: string[] = [];
      for await (const l of containerLogs(deps, principal, params.id, { lines: query.lines, follow: false, signal: AbortSignal.timeout(10_000), service: params.name })) out.push(l);
      return new Response(out.join("\n") + (out.length ? "\n" : ""), { headers: { "content-type": "text/plain; charset=utf-8" } });
    }, { scope: "tenants:read", query: t.Object({ lines: intParam("lines", { minimum: 1, maximum: MAX_LOG_LINES, default: 100, description: "Lines from the end of the log" }), follow: t.Optional(t.String()) }) });
}
