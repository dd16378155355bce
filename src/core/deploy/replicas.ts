// Replicas on one host: a service runs `replicas` containers of its live image, each an upstream of its route (the
// proxy spreads requests over them and skips one that fails). Replica 1 is the service's own container (its name and
// row fields unchanged); replica n ≥ 2 is `<replica 1's name>-r<n>`, recorded in service_replicas.
import type { Ctx } from "../context.ts";
import type { ContainerInfo } from "../../runtime/types.ts";
import type { TenantRow } from "../../store/tenants.ts";
import type { ServiceRow } from "../../store/services.ts";
import * as replicas from "../../store/replicas.ts";
import { candidateSpec, portOf } from "./container-plan.ts";
import { tailLogs, waitHealthy } from "./health.ts";
import { openEnv } from "../env-vars.ts";
import { routeFor } from "../domains/routes.ts";

/** One replica that serves: its slot, container and dial address. */
export interface Member {
  slot: number;
  containerId: string;
  upstream: string | null;
}

/** The container name of replica `slot`: replica 1 keeps the name a one-replica service always had. */
export const replicaName = (first: string, slot: number) => (slot === 1 ? first : `${first}-r${slot}`);

/** Replicas the store records as serving `s` now (slot 1 and the rows up to `replicas`). */
export function runningReplicas(ctx: Ctx, s: ServiceRow): number {
  if (!s.container_id) return 0;
  return 1 + replicas.list(ctx.db, s.id).filter((r) => r.slot <= s.replicas).length;
}

/** The live replicas of `s` as the store records them, by slot (the old version, when a deployment begins). */
export function liveMembers(ctx: Ctx, t: TenantRow, s: ServiceRow): Member[] {
  if (!s.container_id) return [];
  const port = portOf(t, s);
  const at = (ip: string | null) => (ip ? `${ip}:${port}` : null);
  return [
    { slot: 1, containerId: s.container_id, upstream: at(s.container_ip) },
    ...replicas.list(ctx.db, s.id).map((r) => ({ slot: r.slot, containerId: r.container_id, upstream: at(r.container_ip) })),
  ];
}

/**
 * Points the service's route at `upstreams` (none: left as it is); resolves once Caddy can no longer use the
 * previous answer, so whatever left the list may be drained and stopped.
 */
export async function routeTo(ctx: Ctx, t: TenantRow, s: ServiceRow, upstreams: Array<string | null>): Promise<void> {
  const ups = upstreams.filter((u): u is string => !!u);
  if (!s.is_routable || ups.length === 0) return;
  await ctx.proxy.setRoute(routeFor(ctx, t, s, ups));
}

/** The route as the store says: every recorded replica up to `replicas`. */
export function routeLive(ctx: Ctx, t: TenantRow, s: ServiceRow): Promise<void> {
  return routeTo(
    ctx,
    t,
    s,
    liveMembers(ctx, t, s)
      .filter((m) => m.slot <= s.replicas)
      .map((m) => m.upstream),
  );
}

/** Waits `STAXA_DRAIN_SEC`: requests already sent to a container that left the route finish. */
export async function drain(ctx: Ctx): Promise<void> {
  if (ctx.config.drainSec > 0) await Bun.sleep(ctx.config.drainSec * 1000);
}

/**
 * Starts replica `slot` (≥ 2) of `s` from `image` on `port` and waits until it is healthy, like a deployment's
 * candidate. Throws with the reason when it is not (its container removed).
 */
export async function startReplica(
  ctx: Ctx,
  o: {
    tenant: TenantRow;
    service: ServiceRow;
    deploymentId: string;
    image: string;
    port: number;
    slot: number;
    signal?: AbortSignal;
  },
): Promise<ContainerInfo> {
  const { tenant, service } = o;
  const env = { ...openEnv(ctx.box, tenant.env_enc), ...openEnv(ctx.box, service.env_enc) };
  const spec = candidateSpec({ tenant, service, deploymentId: o.deploymentId, image: o.image, env, port: o.port });
  spec.name = replicaName(spec.name, o.slot);
  spec.labels = { ...spec.labels, "staxa.replica": String(o.slot) };
  // A stopped container of an earlier replica in this slot holds the name.
  const stale = await ctx.runtime.inspectContainer(spec.name);
  if (stale) await ctx.runtime.stopAndRemove(stale.id, 0);
  const c = await ctx.runtime.startContainer(spec);
  try {
    c.ip ??= (await ctx.runtime.inspectContainer(c.id))?.ip ?? null;
    const failure = await replicaHealth(ctx, o.service, c, o.port, o.signal);
    if (failure) throw new Error(`replica ${o.slot} (${spec.name}) is not healthy: ${failure}`);
    return c;
  } catch (e) {
    await ctx.runtime.stopAndRemove(c.id, 0).catch(() => undefined);
    throw e;
  }
}

/** Undefined when healthy: the HTTP check of the service (its port and path), or still running for a worker. */
async function replicaHealth(
  ctx: Ctx,
  s: ServiceRow,
  c: ContainerInfo,
  port: number,
  signal?: AbortSignal,
): Promise<string | undefined> {
  if (!s.is_routable && s.port === null && !s.healthcheck) {
    await Bun.sleep(Math.min(1000, ctx.deployer.healthTimeoutMs ?? 1000));
    const info = await ctx.runtime.inspectContainer(c.id);
    if (info?.running) return undefined;
    return `container exited with code ${info?.exitCode ?? "unknown"}: ${(await tailLogs(ctx.runtime, c.id, 5)).join(" | ")}`;
  }
  const path = (s.healthcheck ? (JSON.parse(s.healthcheck).path as string) : undefined) ?? ctx.config.healthPath;
  const timeoutMs = ctx.deployer.healthTimeoutMs ?? ctx.config.healthTimeoutSec * 1000;
  const url = `http://${c.ip}:${port}${path}`;
  return (await waitHealthy(ctx.runtime, ctx.deployer.probe, { id: c.id, url, timeoutMs, signal }))?.message;
}
