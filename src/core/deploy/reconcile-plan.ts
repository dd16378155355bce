// Reconciliation as data: what the store wants (desired) against what Docker and Caddy run (observed) gives the
// steps that repair the difference. Pure, so start-up, the periodic tick and the tests all read the same decision.
import type { Route } from "../../proxy/types.ts";
import { tenantOfRoute } from "../resources.ts";

export const INTERRUPTED = "interrupted by appliance restart";

/** A service as the store says it should run: its live container, the address and port it was deployed with. */
export interface DesiredService {
  id: string;
  name: string;
  isPrimary: boolean;
  containerId: string | null;
  ip: string | null;
  /** portOf(service): the port recorded when this container went live. */
  port: number;
  /** The route's id, hosts and TLS when the service is routable (the upstream is the observed address). */
  route: Omit<Route, "upstream"> | null;
  /** Containers the service should run (its `replicas`; 1 when absent): replica 1 is `containerId`. */
  replicas?: number;
  /** The containers recorded for replicas 2..n (service_replicas). */
  extra?: DesiredReplica[];
  /** Tasks a cluster engine runs for the one container (the service's replicas); undefined on one host. */
  tasks?: number;
}

/** A replica beyond the first as the store records it: its slot (2..n), container and address. */
export interface DesiredReplica {
  slot: number;
  containerId: string;
  ip: string | null;
}

export interface DesiredTenant {
  id: string;
  name: string;
  status: string;
  /** A deployment of this process is in flight: its containers and routes are left as they are. */
  busy: boolean;
  services: DesiredService[];
}

export interface ObservedContainer {
  id: string;
  name: string;
  running: boolean;
  ip: string | null;
  /** Where it answers when the engine publishes it itself (swarm tasks); else `<ip>:<port>`. */
  upstreams?: string[];
  /** Tasks a cluster engine keeps running of it (a Swarm service's replicas); undefined on one host. */
  replicas?: number;
  /** `staxa.tenant_id` label; containers of tenants another store owns are never touched. */
  tenantId: string | undefined;
}

export interface Observed {
  containers: ObservedContainer[];
  routes: Route[];
}

export type Step =
  | { op: "set-route"; route: Route }
  | { op: "remove-route"; id: string }
  | { op: "sync-routes"; routes: Route[] }
  | { op: "record-ip"; tenantId: string; serviceId: string; ip: string }
  | { op: "record-replica-ip"; tenantId: string; serviceId: string; slot: number; containerId: string; ip: string }
  /** A replica slot without a container: one is started from the live image and port, then routed. */
  | { op: "start-replica"; tenantId: string; serviceId: string; slot: number }
  /** A replica's recorded container stopped or vanished: it is removed, and the slot started again. */
  | { op: "restore-replica"; tenantId: string; serviceId: string; slot: number; containerId: string }
  /** A slot above `replicas`: its route entry goes first, then it is drained, then stopped. */
  | { op: "stop-replica"; tenantId: string; serviceId: string; slot: number; containerId: string }
  /** A cluster engine's service runs another count of tasks than the service's replicas (a PATCH): it is scaled. */
  | { op: "scale-service"; tenantId: string; serviceId: string; id: string; replicas: number }
  | { op: "restore"; tenantId: string; serviceId: string; label: string }
  | { op: "remove-container"; tenantId: string; id: string; name: string }
  | { op: "tenant-status"; tenantId: string; status: "ready" | "degraded" | "failed"; reason: string | null }
  | { op: "cleanup"; tenantId: string };

/**
 * `startup` also settles tenants left mid-deployment, removes orphaned containers and writes the whole routing
 * table in one change; the periodic tick only repairs what differs (an orphan there may be an old container
 * still draining, so it is left to the deployment that retires it). Replica steps come after the route steps: a
 * replica being scaled away leaves the route before it stops, and a new one joins the route itself once healthy.
 */
export function plan(desired: DesiredTenant[], observed: Observed, mode: "startup" | "tick"): Step[] {
  const steps: Step[] = [];
  const replicaSteps: Step[] = [];
  const byId = new Map(observed.containers.map((c) => [c.id, c]));
  const live = new Set<string>();
  const wanted: Route[] = [];
  // Routes left as Caddy has them: a busy tenant's (its deployment switches them), a deleting tenant's (cleanup
  // removes them) and a restored service's (its replacement takes the route over).
  const keep = new Set<string>();
  const busyNames = new Set<string>();
  for (const t of desired) {
    if (t.busy || t.status === "deleting") busyNames.add(t.name);
    if (t.busy) continue;
    if (t.status === "deleting") {
      steps.push({ op: "cleanup", tenantId: t.id });
      continue;
    }
    let serving = false;
    const short: string[] = [];
    for (const s of t.services) {
      if (!s.containerId) continue;
      const c = byId.get(s.containerId);
      if (!c?.running && c && s.tasks) {
        // A cluster engine restarts and reschedules a service's tasks itself (a lost node's, a crashed one's): the
        // service is degraded until they run, never redeployed beside Swarm's own replacements.
        live.add(c.id);
        if (s.route) keep.add(s.route.id);
        short.push(`${s.name}: 0 of ${s.tasks} replicas running`);
        continue;
      }
      if (!c?.running) {
        if (c) live.add(c.id); // replaced by the restore, not removed as an orphan meanwhile
        // The other replicas keep serving until the restore's deployment replaces them one by one.
        for (const r of s.extra ?? []) if (byId.has(r.containerId)) live.add(r.containerId);
        if (s.route) keep.add(s.route.id);
        steps.push({ op: "restore", tenantId: t.id, serviceId: s.id, label: `${t.name}.${s.name}` });
        continue;
      }
      live.add(c.id);
      if (s.isPrimary) serving = true;
      if (c.ip && c.ip !== s.ip) steps.push({ op: "record-ip", tenantId: t.id, serviceId: s.id, ip: c.ip });
      const upstreams = c.upstreams?.length ? [...c.upstreams] : c.ip ? [`${c.ip}:${s.port}`] : [];
      if (s.tasks && (c.upstreams?.length ?? 0) < s.tasks)
        short.push(`${s.name}: ${c.upstreams?.length ?? 0} of ${s.tasks} replicas running`);
      if (s.tasks && c.replicas !== undefined && c.replicas !== s.tasks)
        replicaSteps.push({ op: "scale-service", tenantId: t.id, serviceId: s.id, id: c.id, replicas: s.tasks });
      planReplicas(t.id, s, byId, live, upstreams, steps, replicaSteps);
      if (s.route && upstreams.length)
        wanted.push({ ...s.route, upstream: upstreams[0]!, ...(upstreams.length > 1 ? { upstreams } : {}) });
    }
    const health = servingStatus(t.status, short);
    if (health) steps.push({ op: "tenant-status", tenantId: t.id, ...health });
    if (mode === "startup" && (t.status === "deploying" || t.status === "provisioning")) {
      steps.push(
        serving
          ? { op: "tenant-status", tenantId: t.id, status: "ready", reason: null }
          : { op: "tenant-status", tenantId: t.id, status: "failed", reason: INTERRUPTED },
      );
    }
  }
  if (mode === "startup") {
    const known = new Map(desired.map((t) => [t.id, t]));
    for (const c of observed.containers) {
      const owner = c.tenantId ? known.get(c.tenantId) : undefined;
      if (owner && !owner.busy && owner.status !== "deleting" && !live.has(c.id))
        steps.push({ op: "remove-container", tenantId: owner.id, id: c.id, name: c.name });
    }
    const kept = observed.routes.filter((r) => busyNames.has(tenantOfRoute(r.id)) || keep.has(r.id));
    steps.push({ op: "sync-routes", routes: [...wanted, ...kept] });
    return [...steps, ...replicaSteps];
  }
  const have = observed.routes.filter((r) => !busyNames.has(tenantOfRoute(r.id)) && !keep.has(r.id));
  const haveKeys = new Set(have.map(routeKey));
  const wantIds = new Set(wanted.map((r) => r.id));
  for (const r of wanted) if (!haveKeys.has(routeKey(r))) steps.push({ op: "set-route", route: r });
  for (const r of have) if (!wantIds.has(r.id)) steps.push({ op: "remove-route", id: r.id });
  return [...steps, ...replicaSteps];
}

/**
 * The one rule for a serving tenant's status: degraded while a service runs fewer tasks than its replicas (a lost
 * node's, until Swarm's replacements run), ready again once all run. Only between ready and degraded: a deployment
 * decides the others. undefined when the status stays.
 */
export function servingStatus(
  status: string,
  short: string[],
): { status: "ready" | "degraded"; reason: string | null } | undefined {
  if (status !== "ready" && status !== "degraded") return undefined;
  if (short.length) return status === "degraded" ? undefined : { status: "degraded", reason: short.join("; ") };
  return status === "ready" ? undefined : { status: "ready", reason: null };
}

/**
 * Replicas 2..n of a running service: running ones join `upstreams` (in slot order), stopped or vanished ones are
 * restored, missing slots started, slots above `replicas` stopped. Their containers count as live (never orphans).
 */
function planReplicas(
  tenantId: string,
  s: DesiredService,
  byId: Map<string, ObservedContainer>,
  live: Set<string>,
  upstreams: string[],
  steps: Step[],
  replicaSteps: Step[],
): void {
  const want = s.replicas ?? 1;
  const recorded = new Set<number>();
  for (const r of [...(s.extra ?? [])].sort((a, b) => a.slot - b.slot)) {
    recorded.add(r.slot);
    const c = byId.get(r.containerId);
    if (c) live.add(c.id);
    const at = { tenantId, serviceId: s.id, slot: r.slot, containerId: r.containerId };
    if (r.slot > want) replicaSteps.push({ op: "stop-replica", ...at });
    else if (!c?.running) replicaSteps.push({ op: "restore-replica", ...at });
    else {
      if (c.ip && c.ip !== r.ip) steps.push({ op: "record-replica-ip", ...at, ip: c.ip });
      if (c.ip) upstreams.push(`${c.ip}:${s.port}`);
    }
  }
  for (let slot = 2; slot <= want; slot++)
    if (!recorded.has(slot)) replicaSteps.push({ op: "start-replica", tenantId, serviceId: s.id, slot });
}

/** A route's identity for comparison: its upstreams as a set (the order of replicas does not matter). */
function routeKey(r: Route): string {
  const ups = [...new Set([r.upstream, ...(r.upstreams ?? [])])].sort().join(" ");
  return `${r.id}|${ups}|${[...r.hosts].sort().join(",")}|${r.tls}`;
}
