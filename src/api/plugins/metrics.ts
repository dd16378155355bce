// GET /metrics (Prometheus text) and one structured log line per request; HTTP metrics use the matched route template.
import { Elysia, ElysiaCustomStatusResponse } from "elysia";
import type { Ctx } from "../../core/context.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../../metrics/registry.ts";
import { safeEqual } from "../../lib/crypto.ts";
import { requestIdOf } from "./envelope.ts";

const STATUS_BY_NAME: Record<string, number> = {
  OK: 200,
  Created: 201,
  Accepted: 202,
  "No Content": 204,
  "Not Found": 404,
  "Internal Server Error": 500,
};

/** Elysia may hold the status as a number or as its reason phrase. */
function statusCode(status: unknown): number {
  if (typeof status === "number") return status;
  if (typeof status === "string") return STATUS_BY_NAME[status] ?? (Number(status) || 200);
  return 200;
}

// The start time rides on the request's own context object (cheaper than a WeakMap per request).
const STARTED = Symbol("startedAt");
type Timed = { [STARTED]?: number };

export function metrics(deps: Pick<Ctx, "metrics" | "log" | "config">) {
  const { httpRequests, httpDuration, registry } = deps.metrics;
  // One entry per (method, route template, status), as in the registry: resolved once, then just counted.
  // Nested maps rather than one map keyed by a joined string: no key string is built per request.
  type Series = { requests: { inc(): void }; duration: { observe(v: number): void } };
  const series = new Map<string, Map<string, Map<number, Series>>>();
  const seriesOf = (method: string, route: string, status: number) => {
    let byRoute = series.get(method);
    if (!byRoute) series.set(method, (byRoute = new Map()));
    let byStatus = byRoute.get(route);
    if (!byStatus) byRoute.set(route, (byStatus = new Map()));
    let s = byStatus.get(status);
    if (!s)
      byStatus.set(
        status,
        (s = {
          requests: httpRequests.child({ method, route, status: String(status) }),
          duration: httpDuration.child({ method, route }),
        }),
      );
    return s;
  };
  return (
    new Elysia()
      .onRequest((c) => {
        (c as Timed)[STARTED] = performance.now();
      })
      // mapResponse, not afterResponse: it runs inline on every path (success, error, 404) once the status is
      // known, where afterResponse cost a setImmediate and an async closure per request. It returns the
      // response it was given: Elysia's global error path uses this hook's return value as the body.
      .mapResponse({ as: "global" }, (c) => {
        const { request, route, set, responseValue: response } = c;
        const t0 = (c as Timed)[STARTED];
        const seconds = t0 === undefined ? 0 : (performance.now() - t0) / 1000;
        // Unmatched paths collapse into one label: raw paths would let any client mint series.
        const template = route || "unmatched";
        const status =
          response instanceof Response
            ? response.status
            : response instanceof ElysiaCustomStatusResponse
              ? response.code
              : statusCode(set.status);
        const s = seriesOf(request.method, template, status);
        s.requests.inc();
        s.duration.observe(seconds);
        if (deps.log.enabled?.("info") !== false)
          deps.log.info("request", {
            method: request.method,
            route: template,
            status,
            duration_ms: Math.round(seconds * 1e5) / 100,
            request_id: requestIdOf(request),
          });
        return response as Response; // the same value, whatever it is (see above)
      })
      .get("/metrics", ({ request, set }) => {
        const token = deps.config.metricsToken;
        if (token && !safeEqual(request.headers.get("authorization") ?? "", `Bearer ${token}`)) {
          set.status = 401;
          set.headers["www-authenticate"] = 'Bearer realm="metrics"';
          return "unauthorized\n";
        }
        set.headers["content-type"] = PROMETHEUS_CONTENT_TYPE;
        return registry.render();
      })
  );
}
