// Live resource usage: the numbers from Docker's stats JSON, the bounded ring, the flags, the bounded /metrics series.
import { describe, expect, test } from "bun:test";
import { usageFromStats } from "../../../src/runtime/stats.ts";
import { RESTART_FLAG, UsageStore, restartsIn, type Sample } from "../../../src/core/usage/store.ts";
import { boundedTotals, registerUsageMetrics } from "../../../src/metrics/usage.ts";
import { Registry } from "../../../src/metrics/registry.ts";

// Trimmed from a real `GET /containers/{id}/stats?stream=false` of a busy loop (cgroup v2, 2 CPUs).
const BUSY = {
  read: "2026-12-03T17:00:01Z",
  cpu_stats: { cpu_usage: { total_usage: 2_000_000_000 }, system_cpu_usage: 10_000_000_000, online_cpus: 2 },
  precpu_stats: { cpu_usage: { total_usage: 1_500_000_000 }, system_cpu_usage: 9_000_000_000 },
  memory_stats: { usage: 110 * 1024 * 1024, limit: 512 * 1024 * 1024, stats: { inactive_file: 10 * 1024 * 1024 } },
  networks: { eth0: { rx_bytes: 1000, tx_bytes: 200 }, eth1: { rx_bytes: 5, tx_bytes: 7 } },
  blkio_stats: {
    io_service_bytes_recursive: [
      { op: "read", value: 4096 },
      { op: "write", value: 8192 },
      { op: "Read", value: 1 },
    ],
  },
};

describe("usageFromStats", () => {
  test("CPU % as docker stats computes it (share of host CPU time x CPUs), memory without page cache, I/O summed", () => {
    expect(usageFromStats(BUSY)).toEqual({
      cpuPercent: 100,
      memoryBytes: 100 * 1024 * 1024,
      memoryLimitBytes: 512 * 1024 * 1024,
      netRxBytes: 1005,
      netTxBytes: 207,
      blockReadBytes: 4097,
      blockWriteBytes: 8192,
    });
  });
  test("cgroup v1: percpu_usage gives the CPU count, total_inactive_file the cache", () => {
    const v1 = {
      cpu_stats: { cpu_usage: { total_usage: 300, percpu_usage: [1, 2, 3, 4] }, system_cpu_usage: 2000 },
      precpu_stats: { cpu_usage: { total_usage: 100 }, system_cpu_usage: 1000 },
      memory_stats: { usage: 500, limit: 1000, stats: { total_inactive_file: 100 } },
    };
    expect(usageFromStats(v1)).toMatchObject({ cpuPercent: 80, memoryBytes: 400 });
  });
  test("the first sample of a container (no previous CPU reading) is 0 %, never negative or NaN; an empty answer is all zeros", () => {
    expect(usageFromStats({ ...BUSY, precpu_stats: {} }).cpuPercent).toBeGreaterThan(0);
    expect(
      usageFromStats({
        cpu_stats: { cpu_usage: { total_usage: 5 }, system_cpu_usage: 5 },
        precpu_stats: { cpu_usage: { total_usage: 9 }, system_cpu_usage: 9 },
      }).cpuPercent,
    ).toBe(0);
    expect(usageFromStats({})).toEqual({
      cpuPercent: 0,
      memoryBytes: 0,
      memoryLimitBytes: 0,
      netRxBytes: 0,
      netTxBytes: 0,
      blockReadBytes: 0,
      blockWriteBytes: 0,
    });
  });
});

const sample = (over: Partial<Sample> = {}): Sample => ({
  ...usageFromStats(BUSY),
  at: "2026-12-03T17:00:00Z",
  containerId: "c1",
  restarts: 0,
  ...over,
});

describe("UsageStore", () => {
  test("keeps at most `capacity` samples per service, oldest dropped", () => {
    const u = new UsageStore(3);
    for (let i = 0; i < 5; i++) u.record([{ tenantId: "t1", tenant: "a", service: "web", sample: sample({ cpuPercent: i }) }]);
    const [web] = u.ofTenant("t1");
    expect(web!.history.map((s) => s.cpuPercent)).toEqual([2, 3, 4]);
    expect(web!.current!.cpuPercent).toBe(4);
  });
  test("a tenant or service missing from a pass is dropped (deleted tenants leave memory and /metrics)", () => {
    const u = new UsageStore(3);
    u.record([
      { tenantId: "t1", tenant: "a", service: "web", sample: sample() },
      { tenantId: "t1", tenant: "a", service: "db", sample: sample() },
      { tenantId: "t2", tenant: "b", service: "web", sample: sample() },
    ]);
    u.record([{ tenantId: "t1", tenant: "a", service: "web", sample: sample() }]);
    expect(u.ofTenant("t1").map((s) => s.service)).toEqual(["web"]);
    expect(u.ofTenant("t2")).toEqual([]);
  });
  test("a listed service whose sample failed in one pass keeps its history; one no longer listed is dropped", () => {
    const u = new UsageStore(5);
    const web = { tenantId: "t1", tenant: "a", service: "web", sample: sample() };
    u.record([web]);
    u.record([web]);
    u.record([], new Map([["t1", new Set(["web"])]]));
    expect(u.ofTenant("t1")[0]!.history.length).toBe(2);
    u.record([], new Map());
    expect(u.ofTenant("t1")).toEqual([]);
  });
  test("flags: memory at 90 % of the limit; restarts counted per container within the window", () => {
    const u = new UsageStore(10);
    u.record([{ tenantId: "t1", tenant: "a", service: "web", sample: sample({ memoryBytes: 461, memoryLimitBytes: 512 }) }]);
    expect(u.totals()[0]).toMatchObject({ nearMemoryLimit: true, restarting: false });
    u.record([
      {
        tenantId: "t1",
        tenant: "a",
        service: "web",
        sample: sample({ memoryBytes: 400, memoryLimitBytes: 512, restarts: RESTART_FLAG }),
      },
    ]);
    expect(u.totals()[0]).toMatchObject({ nearMemoryLimit: false, restarting: true });
    // A redeploy (new container, count from 0) is not a restart.
    expect(
      restartsIn([
        sample({ containerId: "old", restarts: 5 }),
        sample({ containerId: "new", restarts: 0 }),
        sample({ containerId: "new", restarts: 1 }),
      ]),
    ).toBe(1);
  });
});

describe("/metrics usage series", () => {
  const totals = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      tenant: `t${i}`,
      cpuPercent: 1,
      memoryBytes: i,
      memoryLimitBytes: 10,
      netRxBytes: 0,
      netTxBytes: 0,
      blockReadBytes: 0,
      blockWriteBytes: 0,
      nearMemoryLimit: i === 0,
      restarting: false,
    }));
  test("bounded: the top tenants by memory get a series each, the rest are summed as _other", () => {
    const rows = boundedTotals(totals(5), 3);
    expect(rows.map((r) => r.tenant)).toEqual(["t4", "t3", "t2", "_other"]);
    expect(rows[3]).toMatchObject({ cpuPercent: 2, memoryBytes: 1, memoryLimitBytes: 20, nearMemoryLimit: true });
  });
  test("rendered per tenant, one label, 51 series at most for 500 tenants", () => {
    const r = new Registry();
    registerUsageMetrics(r, { totals: () => totals(500) });
    const text = r.render();
    const cpu = text.split("\n").filter((l) => l.startsWith("staxa_tenant_cpu_percent{"));
    expect(cpu.length).toBe(51);
    expect(cpu).toContain('staxa_tenant_cpu_percent{tenant="_other"} 450');
    expect(text).toContain('staxa_tenant_memory_bytes{tenant="t499"} 499');
  });
});
