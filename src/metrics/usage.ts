// Per-tenant usage series on /metrics, read at scrape time from the context's usage store.
// Cardinality is bounded: one label (`tenant`), summed over its services (never per container or service), and
// only the USAGE_SERIES_TENANTS tenants using the most memory get their own series; the rest are summed under
// tenant="_other". So each family has at most USAGE_SERIES_TENANTS + 1 series, however many tenants exist.
import { Gauge, type Registry } from "./registry.ts";
import type { TenantTotals } from "../core/usage/store.ts";

export const USAGE_SERIES_TENANTS = 50;

export interface UsageTotalsSource {
  totals(): Array<Omit<TenantTotals, "tenantId">>;
}

type Totals = ReturnType<UsageTotalsSource["totals"]>[number];
const FIELDS: Array<[string, string, (t: Totals) => number]> = [
  ["staxa_tenant_cpu_percent", "CPU use of a tenant's containers at the last sample (100 = one CPU)", (t) => t.cpuPercent],
  ["staxa_tenant_memory_bytes", "Memory of a tenant's containers at the last sample (without page cache)", (t) => t.memoryBytes],
  ["staxa_tenant_memory_limit_bytes", "Sum of the memory limits of a tenant's containers", (t) => t.memoryLimitBytes],
  ["staxa_tenant_network_receive_bytes", "Bytes received by a tenant's containers since they started", (t) => t.netRxBytes],
  ["staxa_tenant_network_transmit_bytes", "Bytes sent by a tenant's containers since they started", (t) => t.netTxBytes],
  [
    "staxa_tenant_block_read_bytes",
    "Bytes read from block devices by a tenant's containers since they started",
    (t) => t.blockReadBytes,
  ],
  [
    "staxa_tenant_block_write_bytes",
    "Bytes written to block devices by a tenant's containers since they started",
    (t) => t.blockWriteBytes,
  ],
  [
    "staxa_tenant_near_memory_limit",
    "1 when a service of the tenant uses 90% or more of its memory limit",
    (t) => (t.nearMemoryLimit ? 1 : 0),
  ],
  [
    "staxa_tenant_restarting",
    "1 when a container of the tenant restarted 3 or more times within the usage history",
    (t) => (t.restarting ? 1 : 0),
  ],
];

/** The top tenants by memory, the rest summed as `_other` (flags: 1 when any of them is flagged). */
export function boundedTotals(all: Totals[], max = USAGE_SERIES_TENANTS): Totals[] {
  const sorted = [...all].sort((a, b) => b.memoryBytes - a.memoryBytes || a.tenant.localeCompare(b.tenant));
  if (sorted.length <= max) return sorted;
  const rest = sorted.slice(max);
  const other: Totals = {
    tenant: "_other",
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
  for (const t of rest) {
    for (const k of [
      "cpuPercent",
      "memoryBytes",
      "memoryLimitBytes",
      "netRxBytes",
      "netTxBytes",
      "blockReadBytes",
      "blockWriteBytes",
    ] as const)
      other[k] += t[k];
    other.nearMemoryLimit ||= t.nearMemoryLimit;
    other.restarting ||= t.restarting;
  }
  return [...sorted.slice(0, max), other];
}

export function registerUsageMetrics(registry: Registry, source: UsageTotalsSource): void {
  let cached: { at: number; rows: Totals[] } | undefined;
  // One computation per scrape for all families (they are collected one after another).
  const rows = () => {
    if (!cached || Date.now() - cached.at > 1000) cached = { at: Date.now(), rows: boundedTotals(source.totals()) };
    return cached.rows;
  };
  for (const [name, help, value] of FIELDS) {
    registry.register(
      new Gauge(name, help, ["tenant"], (g) => {
        g.reset();
        for (const t of rows()) g.set({ tenant: t.tenant }, value(t));
      }),
    );
  }
}
