// GET /tenants/{id}/usage: the tenant's services as the sampler last saw them, a short history, and flags.
import type { Ctx } from "../context.ts";
import type { Principal } from "../identity/principal.ts";
import * as tenants from "../../store/tenants.ts";
import { RESTART_FLAG, type Sample } from "./store.ts";
import { Conflict } from "../../lib/errors.ts";

/** Why the swarm engine has no live usage: an answer that says so, not an empty list that looks like an idle tenant. */
export const USAGE_NOT_SAMPLED =
  "Live usage is not sampled on the swarm engine (STAXA_ENGINE=swarm): each task's stats live on the engine of the " +
  "node running it, and the appliance talks to the manager's engine only. Deployments, logs and events work as usual.";

const point = (s: Sample) => ({
  at: s.at,
  cpu_percent: s.cpuPercent,
  memory_bytes: s.memoryBytes,
  memory_limit_bytes: s.memoryLimitBytes,
  network_rx_bytes: s.netRxBytes,
  network_tx_bytes: s.netTxBytes,
  block_read_bytes: s.blockReadBytes,
  block_write_bytes: s.blockWriteBytes,
});

export function tenantUsage(ctx: Ctx, p: Principal, tenantId: string) {
  const t = tenants.get(ctx.db, p, tenantId);
  if (ctx.runtime.cluster) throw new Conflict(USAGE_NOT_SAMPLED, { engine: "swarm" }, "usage_not_sampled");
  const services = ctx.usage.ofTenant(t.id).map((u) => ({
    service: u.service,
    current: u.current ? point(u.current) : null,
    history: u.history.map(point),
    near_memory_limit: u.near_memory_limit,
    restarts_in_window: u.restarts_in_window,
    restarting: u.restarts_in_window >= RESTART_FLAG,
  }));
  return {
    tenant_id: t.id,
    sample_every_sec: ctx.usage.everySec,
    history_size: ctx.usage.capacity,
    near_memory_limit: services.some((s) => s.near_memory_limit),
    restarting: services.some((s) => s.restarting),
    services,
  };
}
