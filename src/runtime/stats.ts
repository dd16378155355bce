// Pure: usage numbers from one Docker stats JSON (GET /containers/{id}/stats?stream=false), as `docker stats` computes them.

/** The fields of Docker's stats answer that usage reads (cgroup v1 and v2). */
export interface RawStats {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op?: string; value?: number }> | null };
}

export interface Usage {
  /** Percent of one CPU (200 = two CPUs busy), as `docker stats`. */
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  netRxBytes: number;
  netTxBytes: number;
  blockReadBytes: number;
  blockWriteBytes: number;
}

/**
 * CPU: the container's share of the host's CPU time between the previous and this sample, times the CPUs.
 * Memory: usage minus the page cache (cgroup v2 `inactive_file`, v1 `total_inactive_file`), as `docker stats`.
 */
export function usageFromStats(s: RawStats): Usage {
  const cpu = s.cpu_stats ?? {};
  const pre = s.precpu_stats ?? {};
  const cpuDelta = (cpu.cpu_usage?.total_usage ?? 0) - (pre.cpu_usage?.total_usage ?? 0);
  const sysDelta = (cpu.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const cpus = cpu.online_cpus || cpu.cpu_usage?.percpu_usage?.length || 1;
  const cpuPercent = cpuDelta > 0 && sysDelta > 0 ? round2((cpuDelta / sysDelta) * cpus * 100) : 0;
  const mem = s.memory_stats ?? {};
  const cache = mem.stats?.inactive_file ?? mem.stats?.total_inactive_file ?? 0;
  const memoryBytes = Math.max(0, (mem.usage ?? 0) - (cache < (mem.usage ?? 0) ? cache : 0));
  let netRxBytes = 0;
  let netTxBytes = 0;
  for (const n of Object.values(s.networks ?? {})) {
    netRxBytes += n.rx_bytes ?? 0;
    netTxBytes += n.tx_bytes ?? 0;
  }
  let blockReadBytes = 0;
  let blockWriteBytes = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = (e.op ?? "").toLowerCase();
    if (op === "read") blockReadBytes += e.value ?? 0;
    else if (op === "write") blockWriteBytes += e.value ?? 0;
  }
  return { cpuPercent, memoryBytes, memoryLimitBytes: mem.limit ?? 0, netRxBytes, netTxBytes, blockReadBytes, blockWriteBytes };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
