// The Swarm manager's events, as tenants whose routes may have changed: a node going down or drained (its tasks are
// shut down and rescheduled), a service updated or removed, a task's container starting or dying on the manager.
// Docker 20.10 sends no task events, so a node event is resolved through the tasks Swarm placed on that node.
import type Docker from "dockerode";
import { call } from "./docker-errors.ts";

/** The part of a Docker event this reads. */
export interface DockerEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/** What an event points at: a tenant directly (labels on it), or a service or node to resolve to tenants. */
export type EventTarget = { tenantId: string } | { serviceId: string } | { nodeId: string } | null;

const CONTAINER_ACTIONS = new Set(["start", "die", "kill", "stop", "destroy", "health_status"]);

/** Maps one event to what to resolve; null for events that cannot move a task (a node's label edit, an exec). */
export function eventTarget(e: DockerEvent): EventTarget {
  const id = e.Actor?.ID;
  const attrs = e.Actor?.Attributes ?? {};
  if (e.Type === "container") {
    const action = (e.Action ?? "").split(":")[0]; // "health_status: unhealthy"
    const tenantId = attrs["staxa.tenant_id"];
    return attrs["staxa.managed"] === "1" && tenantId && CONTAINER_ACTIONS.has(action) ? { tenantId } : null;
  }
  if (!id) return null;
  if (e.Type === "service" && ["update", "remove"].includes(e.Action ?? "")) return { serviceId: id };
  if (e.Type === "node") {
    // A node's state (ready/down) or availability (drain/active) decides where its tasks run; remove takes them.
    if (e.Action === "remove") return { nodeId: id };
    if (e.Action === "update" && ("state.new" in attrs || "availability.new" in attrs)) return { nodeId: id };
  }
  return null;
}

interface TaskRow {
  ServiceID?: string;
  NodeID?: string;
}
interface ServiceRow {
  ID?: string;
  Spec?: { Labels?: Record<string, string> };
}

/** The appliance's tenants among services (their labels), for the given service ids (all when none given). */
export function tenantsOfServices(services: ServiceRow[], serviceIds?: Set<string>): string[] {
  const out = new Set<string>();
  for (const s of services) {
    const labels = s.Spec?.Labels ?? {};
    if (labels["staxa.managed"] !== "1" || !labels["staxa.tenant_id"]) continue;
    if (serviceIds && !serviceIds.has(s.ID ?? "")) continue;
    out.add(labels["staxa.tenant_id"]);
  }
  return [...out];
}

/** Resolves a target to tenant ids with the manager's service and task listings (task history keeps a node's). */
export async function tenantsOf(docker: Docker, t: EventTarget): Promise<string[]> {
  if (!t) return [];
  if ("tenantId" in t) return [t.tenantId];
  const services = (await call("list services", () => docker.listServices({}))) as ServiceRow[];
  if ("serviceId" in t) return tenantsOfServices(services, new Set([t.serviceId]));
  const tasks = (await call("list tasks", () => docker.listTasks({ filters: { node: [t.nodeId] } }))) as TaskRow[];
  return tenantsOfServices(services, new Set(tasks.map((k) => k.ServiceID ?? "")));
}

/**
 * Follows the engine's events until stopped, handing each to `onEvent`; a broken stream is opened again after a
 * second (the engine restarting). Returns the stop function.
 */
export function watchEvents(docker: Docker, onEvent: (e: DockerEvent) => void, onError: (e: unknown) => void): () => void {
  let stopped = false;
  let current: NodeJS.ReadableStream | undefined;
  const loop = async () => {
    while (!stopped) {
      try {
        const stream = (await docker.getEvents({
          filters: { type: ["node", "service", "container"] },
        })) as NodeJS.ReadableStream;
        current = stream;
        let buf = "";
        await new Promise<void>((resolve) => {
          stream.on("data", (chunk: Buffer) => {
            buf += chunk.toString("utf8");
            let nl: number;
            while ((nl = buf.indexOf("\n")) >= 0) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (!line) continue;
              try {
                onEvent(JSON.parse(line) as DockerEvent);
              } catch (err) {
                onError(err);
              }
            }
          });
          stream.on("end", resolve);
          stream.on("close", resolve);
          stream.on("error", (err) => {
            onError(err);
            resolve();
          });
        });
      } catch (err) {
        onError(err);
      }
      if (!stopped) await Bun.sleep(1000);
    }
  };
  void loop();
  return () => {
    stopped = true;
    (current as { destroy?: () => void } | undefined)?.destroy?.();
  };
}
