// Deploying several services of a tenant as one group: the order (dependencies, stateful first, then
// priority) and stop-on-failure (a service whose predecessor failed is not started).
import type { Ctx } from "../context.ts";
import type { TenantRow } from "../../store/tenants.ts";
import type { ServiceRow } from "../../store/services.ts";
import type { DeploymentRow } from "../../store/deployments.ts";
import * as deployments from "../../store/deployments.ts";
import { nowIso } from "../../lib/ids.ts";
import { imageBaseName } from "../../lib/image-ref.ts";
import { mountsOf } from "./volumes.ts";
import { moveDeployment } from "./states.ts";
import { requestDeploy, type DeployRequest } from "./deployments.ts";

/** Image names (last path part, no tag) of databases, caches and brokers: they start before the apps using them. */
export const STATEFUL_IMAGES = new Set([
  "postgres",
  "postgresql",
  "postgis",
  "timescaledb",
  "redis",
  "valkey",
  "keydb",
  "mysql",
  "mariadb",
  "percona",
  "mongo",
  "mongodb",
  "memcached",
  "rabbitmq",
  "nats",
  "elasticsearch",
  "opensearch",
  "cassandra",
  "scylla",
  "clickhouse",
  "couchdb",
  "influxdb",
  "minio",
  "etcd",
  "zookeeper",
  "kafka",
  "neo4j",
]);

type Orderable = Pick<ServiceRow, "name" | "priority" | "depends_on" | "image_url" | "volumes">;

/** A database-like image, or any service holding a volume. */
export function isStateful(s: Pick<ServiceRow, "image_url" | "volumes">): boolean {
  return (!!s.image_url && STATEFUL_IMAGES.has(imageBaseName(s.image_url))) || mountsOf(s).length > 0;
}

export function dependsOn(s: Pick<ServiceRow, "depends_on">): string[] {
  return JSON.parse(s.depends_on || "[]") as string[];
}

/**
 * Deploy order: a topological order of depends_on (a service after everything it names); among the services
 * ready to go, stateful ones first, then lower `priority`, then the order given. Unknown names are ignored.
 */
export function deployOrder<T extends Orderable>(svcs: T[]): T[] {
  const byName = new Map(svcs.map((s) => [s.name, s]));
  const waitingOn = new Map(svcs.map((s) => [s.name, new Set(dependsOn(s).filter((d) => byName.has(d) && d !== s.name))]));
  const key = (s: T) => [isStateful(s) ? 0 : 1, s.priority, svcs.indexOf(s)];
  const before = (a: T, b: T) => {
    const [ka, kb] = [key(a), key(b)];
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] < kb[i];
    return false;
  };
  const out: T[] = [];
  const left = new Set(svcs);
  while (left.size) {
    let next: T | undefined;
    for (const s of left) if (waitingOn.get(s.name)!.size === 0 && (!next || before(s, next))) next = s;
    // A cycle (validation refuses them; a defence for old rows): take the best of the rest.
    if (!next) for (const s of left) if (!next || before(s, next)) next = s;
    out.push(next!);
    left.delete(next!);
    for (const w of waitingOn.values()) w.delete(next!.name);
  }
  return out;
}

/**
 * Queues every service of `svcs`, in deploy order, in the tenant's lane: each runs to healthy before the next
 * starts. When one fails, each later one is marked failed without starting, naming the service that failed.
 */
export function deployGroup(ctx: Ctx, tenant: TenantRow, svcs: ServiceRow[], req: DeployRequest): DeploymentRow[] {
  const out: DeploymentRow[] = [];
  for (const s of deployOrder(svcs)) {
    const earlier = out.map((d) => ({ id: d.id, service: d.service_name }));
    out.push(requestDeploy(ctx, tenant, s, req, (dep) => proceed(ctx, tenant, dep, earlier)));
  }
  return out;
}

/** The gate of one group member: true to run it, false (after recording why) when a predecessor failed. */
function proceed(ctx: Ctx, tenant: TenantRow, dep: DeploymentRow, earlier: Array<{ id: string; service: string }>): boolean {
  const failed = earlier.find((e) => deployments.find(ctx.db, tenant.id, e.id)?.status === "failed");
  if (!failed) return true;
  const current = deployments.find(ctx.db, tenant.id, dep.id);
  if (current?.status !== "queued") return false;
  const reason = `not started: service "${failed.service}" failed (${failed.id})`;
  moveDeployment(ctx.db, current, "failed", { reason, finished_at: nowIso() });
  ctx.bus.emit({
    tenantId: tenant.id,
    deploymentId: dep.id,
    service: dep.service_name,
    stage: "error",
    status: "failed",
    message: `${dep.service_name} ${reason}`,
    data: { failed_stage: "queued", failed_service: failed.service, failed_deployment: failed.id, skipped: true },
  });
  return false;
}
