/** @jsxImportSource preact */
// Live usage: per service, CPU and memory now and as sparklines over the appliance's short history (GET …/usage),
// refreshed at the sampling interval; flags for a service near its memory limit or restarting.
import { useEffect } from "preact/hooks";
import { useApi } from "../../hooks.ts";
import { ErrorNote, Loading } from "../../components/ui.tsx";
import type { TabProps } from "./index.tsx";

interface Point {
  at: string;
  cpu_percent: number;
  memory_bytes: number;
  memory_limit_bytes: number;
  network_rx_bytes: number;
  network_tx_bytes: number;
  block_read_bytes: number;
  block_write_bytes: number;
}
interface ServiceUsage {
  service: string;
  current: Point | null;
  history: Point[];
  near_memory_limit: boolean;
  restarting: boolean;
  restarts_in_window: number;
}
interface Usage {
  sample_every_sec: number;
  history_size: number;
  near_memory_limit: boolean;
  restarting: boolean;
  services: ServiceUsage[];
}

/** SVG polyline points for `values` in a w×h box, scaled to `max` (at least the largest value; 0 stays at the bottom). */
export function sparkPoints(values: number[], w: number, h: number, max?: number): string {
  if (values.length === 0) return "";
  const top = Math.max(max ?? 0, ...values, 1e-9);
  const step = values.length > 1 ? w / (values.length - 1) : 0;
  return values.map((v, i) => `${(i * step).toFixed(1)},${(h - (Math.max(0, v) / top) * h).toFixed(1)}`).join(" ");
}

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;

function Spark(props: { label: string; values: number[]; max?: number }) {
  return (
    <svg class="spark" width="160" height="32" viewBox="0 0 160 32" role="img" aria-label={props.label}>
      <polyline fill="none" stroke="currentColor" stroke-width="1.5" points={sparkPoints(props.values, 160, 30, props.max)} />
    </svg>
  );
}

export function UsageTab(p: TabProps) {
  const usage = useApi<Usage>(`${p.base}/usage`);
  const every = usage.data?.sample_every_sec ?? 10;
  useEffect(() => {
    const t = setInterval(() => usage.reload(), every * 1000);
    return () => clearInterval(t);
  }, [every]);
  const u = usage.data;
  return (
    <div class="card">
      <h2>Resource usage</h2>
      <p class="muted">
        Sampled every {every} s; the graphs show the last {u?.history_size ?? 60} samples. CPU is a percentage of one CPU.
      </p>
      {u?.near_memory_limit && (
        <p class="note error" role="status">
          A service is using 90% or more of its memory limit.
        </p>
      )}
      {u?.restarting && (
        <p class="note error" role="status">
          A container is restarting repeatedly.
        </p>
      )}
      <ErrorNote err={usage.error} />
      {usage.loading && !u && <Loading what="usage" />}
      {u && u.services.length === 0 && (
        <p class="muted">No samples yet: the first arrives within {every} s of a container running.</p>
      )}
      {u && u.services.length > 0 && (
        <div class="table-wrap">
          <table class="stack">
            <thead>
              <tr>
                <th>Service</th>
                <th>CPU</th>
                <th>Memory</th>
                <th>Network (rx / tx)</th>
                <th>Disk (read / write)</th>
              </tr>
            </thead>
            <tbody>
              {u.services.map((s) => (
                <tr data-service={s.service}>
                  <td data-label="Service">
                    {s.service}
                    {s.restarting && <div class="muted">{s.restarts_in_window} restarts</div>}
                  </td>
                  <td data-label="CPU">
                    {s.current ? `${s.current.cpu_percent.toFixed(1)} %` : "—"}
                    <br />
                    <Spark label={`CPU of ${s.service}`} values={s.history.map((x) => x.cpu_percent)} max={100} />
                  </td>
                  <td data-label="Memory">
                    {s.current ? `${mb(s.current.memory_bytes)} of ${mb(s.current.memory_limit_bytes)}` : "—"}
                    {s.near_memory_limit && " ⚠"}
                    <br />
                    <Spark
                      label={`Memory of ${s.service}`}
                      values={s.history.map((x) => x.memory_bytes)}
                      max={s.current?.memory_limit_bytes}
                    />
                  </td>
                  <td data-label="Network">
                    {s.current ? `${mb(s.current.network_rx_bytes)} / ${mb(s.current.network_tx_bytes)}` : "—"}
                  </td>
                  <td data-label="Disk">
                    {s.current ? `${mb(s.current.block_read_bytes)} / ${mb(s.current.block_write_bytes)}` : "—"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
