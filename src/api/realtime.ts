// HTTP routes of /api/v1 for: real time — SSE deployment events and container logs.
import { Elysia, t } from "elysia";
import type { ApiDeps } from "./deps.ts";
import type { PipelineEvent } from "../events/bus.ts";
import { auth } from "./plugins/auth.ts";
import { Invalid } from "../lib/errors.ts";
import { isSettled, isTerminal, openEventStream, replay } from "../core/tenants/events.ts";
import { streamSlotsFor } from "./stream-slots.ts";
import { keepOpen } from "./plugins/root-app.ts";
import { logQuery, logResponse } from "./log-stream.ts";

/** Heartbeat period; a setting object so tests can shorten it. */
export const sseSettings = { heartbeatMs: 15_000 };
const enc = new TextEncoder();

function lastEventIdOf(request: Request, query: Record<string, string | undefined>): number | undefined {
  const raw = request.headers.get("last-event-id") ?? query.last_event_id;
  if (raw === undefined || raw === null || raw === "") return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw new Invalid("Last-Event-ID", "Last-Event-ID must be a non-negative integer event id");
  return Number(raw);
}

function frame(e: PipelineEvent): string {
  return `id: ${e.id}\ndata: ${JSON.stringify(e)}\n\n`;
}

/**
 * The SSE stream: replay, then live events; heartbeats every 15 s. Without `follow=true` it ends after
 * the running deployment's final event (ready or error) once nothing else is queued; a replay of a settled
 * tenant is sent whole first (a multi-service tenant's replay holds one final event per service: it ends
 * after the last one, not the first).
 */
function eventStream(
  deps: ApiDeps,
  tenantId: string,
  afterId: number | undefined,
  follow: boolean,
  signal: AbortSignal,
  heartbeatMs: number,
): ReadableStream<Uint8Array> {
  let close = () => {};
  return new ReadableStream<Uint8Array>({
    start(controller) {
      let lastId = afterId ?? 0;
      let closed = false;
      let replaying = true;
      const send = (s: string) => {
        if (closed) return;
        try {
          controller.enqueue(enc.encode(s));
        } catch {
          close();
        }
      };
      const write = (e: PipelineEvent) => {
        if (e.id <= lastId) return; // replay and live may overlap by a few events
        lastId = e.id;
        send(frame(e));
        if (!follow && !replaying && isTerminal(e) && isSettled(deps, tenantId)) close();
      };
      close = () => {
        if (closed) return;
        closed = true;
        unsubscribe();
        clearInterval(heartbeat);
        signal.removeEventListener("abort", close);
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      };
      const unsubscribe = deps.bus.subscribe(tenantId, write); // subscribe before replay: no gap
      const heartbeat = setInterval(() => send(`: heartbeat ${new Date().toISOString()}\n\n`), heartbeatMs);
      signal.addEventListener("abort", close);
      send("retry: 5000\n\n");
      for (const e of replay(deps, tenantId, afterId)) write(e);
      replaying = false;
      if (!follow && isSettled(deps, tenantId)) close();
    },
    cancel() {
      close();
    },
  });
}

export function realtimeRoutes(deps: ApiDeps) {
  return new Elysia({ name: "routes:realtime" })
    .use(auth(deps))
    .get(
      "/tenants/:id/events",
      ({ principal, params, query, request, store }) => {
        const tenantId = openEventStream(deps, principal, params.id);
        const after = lastEventIdOf(request, query);
        keepOpen(store, request);
        const stream = streamSlotsFor(deps).guard(
          principal.providerId,
          "events",
          () => eventStream(deps, tenantId, after, query.follow === "true", request.signal, sseSettings.heartbeatMs),
          request.signal,
        );
        return new Response(stream, {
          headers: { "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no" },
        });
      },
      { scope: "tenants:read", query: t.Object({ last_event_id: t.Optional(t.String()), follow: t.Optional(t.String()) }) },
    )
    .get(
      "/tenants/:id/logs",
      ({ principal, params, query, request, store }) =>
        logResponse(
          deps,
          principal,
          { endpoint: "tenant", tenantId: params.id, lines: query.lines, follow: query.follow },
          request,
          store,
        ),
      { scope: "tenants:read", query: logQuery("tenant") },
    );
}
