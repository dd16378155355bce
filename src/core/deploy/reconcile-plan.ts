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
  | { op: "restore"; tenantId: string; serviceId: string; label: string }
  | { op: "remove-container"; tenantId: string; id: string; name: string }
  | { op: "tenant-status"; tenantId: string; status: "ready" | "failed"; reason: string | null }
  | { op: "cleanup"; tenantId: string };

/**
 * `startup` also settles tenants left mid-deployment, removes orphaned containers and writes the whole routing
 * table in one change; the periodic tick only repairs what differs (an orphan there may be an old container
 * still draining, so it is left to the deployment that retires it).
 */
export function plan(desired: DesiredTenant[], observed: Observed, mode: "startup" | "tick"): Step[] {
  const steps: Step[] = [];
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
    for (const s of t.services) {
      if (!s.containerId) continue;
      const c = byId.get(s.containerId);
      if (!c?.running) {
        if (c) live.add(c.id); // replaced by the restore, not removed as an orphan meanwhile
        if (s.route) keep.add(s.route.id);
        steps.push({ op: "restore", tenantId: t.id, serviceId: s.id, label: `${t.name}.${s.name}` });
        continue;
      }
      live.add(c.id);
      if (s.isPrimary) serving = true;
      if (c.ip && c.ip !== s.ip) steps.push({ op: "record-ip", tenantId: t.id, serviceId: s.id, ip: c.ip });
      if (s.route && c.ip) wanted.push({ ...s.route, upstream: `${c.ip}:${s.port}` });
    }
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
    return steps;
  }
  const have = observed.routes.filter((r) => !busyNames.has(tenantOfRoute(r.id)) && !keep.has(r.id));
  const haveKeys = new Set(have.map(routeKey));
  const wantIds = new Set(wanted.map((r) => r.id));
  for (const r of wanted) if (!haveKeys.has(routeKey(r))) steps.push({ op: "set-route", route: r });
  for (const r of have) if (!wantIds.has(r.id)) steps.push({ op: "remove-route", id: r.id });
  return steps;
}

function routeKey(r: Route): string {
  return `${r.id}|${r.upstream}|${[...r.hosts].sort().join(",")}|${r.tls}`;
}
