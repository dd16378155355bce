/** @jsxImportSource preact */
// Container logs: the tenant's (primary service) or one service's, last N lines or followed live.
import { useState } from "preact/hooks";
import { seg } from "../../api.ts";
import { LogView } from "../../components/log-view.tsx";
import type { TabProps } from "./index.tsx";

export function Logs(p: TabProps) {
  const [service, setService] = useState(new URL(location.href).searchParams.get("service") ?? "");
  const [lines, setLines] = useState("200");
  const [follow, setFollow] = useState(false);
  const n = Math.min(5000, Math.max(1, Number(lines) || 200));
  // Only the tenant's log (its primary service) streams; a service's log is read on demand.
  const live = follow && !service;
  const path = service
    ? `${p.base}/services/${seg(service)}/logs?lines=${n}`
    : `${p.base}/logs?lines=${n}${live ? "&follow=true" : ""}`;
  const [version, setVersion] = useState(0);
  return (
    <div class="card">
      <h2>Container logs</h2>
      <div class="row">
        <div class="field">
          <label for="log-service">Service</label>
          <select id="log-service" value={service} onChange={(e) => setService((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">all / primary</option>
            {p.tenant.services.map((s) => (
              <option value={s.name}>{s.name}</option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="log-lines">Lines</label>
          <input
            id="log-lines"
            type="number"
            min={1}
            max={5000}
            value={lines}
            onInput={(e) => setLines((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <label
          class="check"
          title={service ? "Live follow is for the primary service; refresh to read this service's log again." : undefined}
        >
          <input
            type="checkbox"
            checked={live}
            disabled={!!service}
            onChange={(e) => setFollow((e.currentTarget as HTMLInputElement).checked)}
          />{" "}
          Follow
        </label>
        {!live && (
          <button type="button" class="btn" onClick={() => setVersion((v) => v + 1)}>
            Refresh
          </button>
        )}
      </div>
      <LogView label="Container logs" path={path} follow={live} version={version} />
    </div>
  );
}
