// Live resource usage of tenants: a bounded in-memory history per service, held by the context
// (ctx.usage), fed by the sampler and read by GET /tenants/{id}/usage and /metrics. Lost on restart, by design.
import type { Usage } from "../../runtime/stats.ts";

export interface Sample extends Usage {
  at: string;
  containerId: string;
  /** Docker's restart count of that container. */
  restarts: number;
}

/** Memory at or above this share of the limit flags the tenant. */
export const NEAR_MEMORY_LIMIT = 0.9;
/** This many restarts of one container within the history window flags the tenant. */
export const RESTART_FLAG = 3;

export interface ServiceUsage {
  service: string;
  current: Sample | null;
  history: Sample[];
  near_memory_limit: boolean;
  restarts_in_window: number;
}

export interface TenantTotals {
  tenantId: string;
  tenant: string;
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  netRxBytes: number;
  netTxBytes: number;
  blockReadBytes: number;
  blockWriteBytes: number;
  nearMemoryLimit: boolean;
  restarting: boolean;
}

/** Restarts seen within the history: per container, the rise of its restart count (a new container starts over). */
export function restartsIn(history: Sample[]): number {
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  for (const s of history) {
    if (!first.has(s.containerId)) first.set(s.containerId, s.restarts);
    last.set(s.containerId, s.restarts);
  }
  let n = 0;
  for (const [id, r] of last) n += Math.max(0, r - first.get(id)!);
  return n;
}

export function nearLimit(s: Sample | null): boolean {
  return !!s && s.memoryLimitBytes > 0 && s.memoryBytes / s.memoryLimitBytes >= NEAR_MEMORY_LIMIT;
}

export class UsageStore {
  /** tenant id → { name, service → ring (oldest first) } */
  private readonly tenants = new Map<string, { name: string; services: Map<string, Sample[]> }>();

  /** `capacity` samples kept per service (a ring: the oldest goes). */
  constructor(
    readonly capacity = 60,
    readonly everySec = 10,
  ) {}

  /**
   * Records one pass. `listed` is every tenant id → service names Docker listed in it (default: those sampled).
   * Services no longer listed are dropped, so memory follows what runs now and a deleted tenant's series leave
   * /metrics with its containers; a listed service whose sample failed this once keeps its history.
   */
  record(
    pass: Array<{ tenantId: string; tenant: string; service: string; sample: Sample }>,
    listed?: Map<string, Set<string>>,
  ): void {
    const seen = listed ?? new Map<string, Set<string>>();
    for (const p of pass) {
      let t = this.tenants.get(p.tenantId);
      if (!t) this.tenants.set(p.tenantId, (t = { name: p.tenant, services: new Map() }));
      t.name = p.tenant;
      const ring = t.services.get(p.service) ?? [];
      ring.push(p.sample);
      if (ring.length > this.capacity) ring.splice(0, ring.length - this.capacity);
      t.services.set(p.service, ring);
      if (!seen.has(p.tenantId)) seen.set(p.tenantId, new Set());
      seen.get(p.tenantId)!.add(p.service);
    }
    for (const [id, t] of this.tenants) {
      const s = seen.get(id);
      if (!s) this.tenants.delete(id);
      else for (const name of t.services.keys()) if (!s.has(name)) t.services.delete(name);
    }
  }

  /** One tenant's services, current sample and history; empty before the first sample. */
  ofTenant(tenantId: string): ServiceUsage[] {
    const t = this.tenants.get(tenantId);
    if (!t) return [];
    return [...t.services.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([service, history]) => {
        const current = history.at(-1) ?? null;
        return {
          service,
          current,
          history: [...history],
          near_memory_limit: nearLimit(current),
          restarts_in_window: restartsIn(history),
        };
      });
  }

  /** The latest sample of every tenant, summed over its services (/metrics). */
  totals(): TenantTotals[] {
    const out: TenantTotals[] = [];
    for (const [tenantId, t] of this.tenants) {
      const sum: TenantTotals = {
        tenantId,
        tenant: t.name,
        cpuPercent: 0,
        memoryBytes: 0,
        memoryLimitBytes: 0,
        netRxBytes: 0,
        netTxBytes: 0,
        blockReadBytes: 0,
        blockWriteBytes: 0,
        nearMemoryLimit: false,
        restarting: false,
      };
      for (const u of this.ofTenant(tenantId)) {
        const c = u.current;
        if (!c) continue;
        sum.cpuPercent += c.cpuPercent;
        sum.memoryBytes += c.memoryBytes;
        sum.memoryLimitBytes += c.memoryLimitBytes;
        sum.netRxBytes += c.netRxBytes;
        sum.netTxBytes += c.netTxBytes;
        sum.blockReadBytes += c.blockReadBytes;
        sum.blockWriteBytes += c.blockWriteBytes;
        sum.nearMemoryLimit ||= u.near_memory_limit;
        sum.restarting ||= u.restarts_in_window >= RESTART_FLAG;
      }
      out.push(sum);
    }
    return out;
  }
}
