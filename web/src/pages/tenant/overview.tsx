/** @jsxImportSource preact */
// Overview: live deploy progress (stepper + build log of the running deployment), source and recent events.
import { useEffect, useRef, useState } from "preact/hooks";
import { seg } from "../../api.ts";
import { Stepper, progressOf } from "../../components/stepper.tsx";
import { LogView } from "../../components/log-view.tsx";
import { Badge, When, txt } from "../../components/ui.tsx";
import type { TabProps } from "./index.tsx";
import { isFinished, serves } from "../../tenant-state.ts";

export function Overview(p: TabProps) {
  const t = p.tenant;
  const prog = progressOf(p.events);
  const depId = prog.deploymentId ?? t.deployments[0]?.id ?? null;
  // The build log is refetched as build events arrive (at most every 2 s: rate limits are low).
  const buildEvents = p.events.filter((e) => e.deployment_id === depId && e.stage === "build").length;
  const [logVersion, setLogVersion] = useState(0);
  const last = useRef(0);
  useEffect(() => {
    const wait = Math.max(0, 2000 - (Date.now() - last.current));
    const h = setTimeout(() => {
      last.current = Date.now();
      setLogVersion((n) => n + 1);
    }, wait);
    return () => clearTimeout(h);
  }, [buildEvents, prog.finished, depId]);
  // A long build (npm install) emits no events for minutes: poll its log every 3 s meanwhile.
  const building = prog.steps.build?.state === "running" && !prog.finished;
  useEffect(() => {
    if (!building) return;
    const h = setInterval(() => {
      last.current = Date.now();
      setLogVersion((n) => n + 1);
    }, 3000);
    return () => clearInterval(h);
  }, [building]);

  return (
    <div>
      <div class="card">
        <h2>Deploy progress</h2>
        <Stepper events={p.events} />
        {depId && (
          <details open={!prog.finished || prog.finished === "error"}>
            <summary>
              Build log of <code>{depId}</code>
            </summary>
            <LogView
              label="Build log"
              path={`${p.base}/deployments/${seg(depId)}/logs`}
              version={logVersion}
              finished={!!prog.finished || isFinished(t.deployments.find((d) => d.id === depId)?.status)}
            />
          </details>
        )}
      </div>
      <div class="card">
        <h2>Details</h2>
        <dl class="props">
          <dt>Name</dt>
          <dd>{t.name}</dd>
          <dt>ID</dt>
          <dd>
            <code>{t.id}</code>
          </dd>
          <dt>URL</dt>
          <dd>
            {!t.url ? (
              "—"
            ) : serves(t) ? (
              <a href={t.url} target="_blank" rel="noopener noreferrer">
                {t.url}
              </a>
            ) : (
              <>
                <span>{t.url}</span> <span class="muted">(not serving)</span>
              </>
            )}
          </dd>
          <dt>Source</dt>
          <dd>{t.source_type === "image" ? txt(t.image_url) : `${txt(t.repo_url)} @ ${txt(t.branch)}`}</dd>
          <dt>Size</dt>
          <dd>{txt(t.resource_size)}</dd>
          <dt>Port</dt>
          <dd>{txt(t.app_port)}</dd>
          <dt>Egress</dt>
          <dd>{txt(t.egress_mode)}</dd>
          <dt>Created</dt>
          <dd>
            <When at={t.created_at} />
          </dd>
        </dl>
      </div>
      <div class="card">
        <h2>Recent events</h2>
        {p.events.length === 0 ? (
          <p class="muted">No events yet.</p>
        ) : (
          <ul class="events" aria-live="polite">
            {p.events
              .slice(-12)
              .reverse()
              .map((e) => (
                <li>
                  <Badge status={e.status} /> <strong>{e.stage}</strong> {e.message}{" "}
                  <small class="muted">
                    <When at={e.timestamp} />
                  </small>
                </li>
              ))}
          </ul>
        )}
      </div>
    </div>
  );
}
