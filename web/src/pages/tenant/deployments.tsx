/** @jsxImportSource preact */
// Deployments: history, deploy now, rollback (a new deployment reusing an old image), build logs.
import { useEffect, useState } from "preact/hooks";
import { api, seg } from "../../api.ts";
import { useAction, useApi } from "../../hooks.ts";
import { LogView } from "../../components/log-view.tsx";
import { Badge, Button, ErrorNote, Loading, When, txt } from "../../components/ui.tsx";
import type { Deployment, TabProps } from "./index.tsx";
import { isFinished } from "../../tenant-state.ts";

export function Deployments(p: TabProps) {
  const list = useApi<Deployment[]>(`${p.base}/deployments?limit=50`);
  useEffect(() => {
    if (p.changed) list.reload();
  }, [p.changed]);
  const [note, setNote] = useState("");
  const [showLog, setShowLog] = useState<string | null>(null);
  const deploy = useAction(async () => {
    const r = await api<Deployment>("POST", `${p.base}/deployments`, {});
    setNote(`Deployment ${r.data?.id ?? ""} queued: follow it on the Overview tab.`);
    list.reload();
  });
  const rollback = useAction(async (id: string) => {
    const r = await api<Deployment>("POST", `${p.base}/deployments/${seg(id)}/rollback`);
    setNote(`Rolling back to ${id}: new deployment ${r.data?.id ?? ""}.`);
    list.reload();
  });
  // A build or deployment can be cancelled; builds are refused while the disk is low.
  const cancel = useAction(async (id: string) => {
    await api<Deployment>("POST", `${p.base}/deployments/${seg(id)}/cancel`);
    setNote(`Cancelling ${id}: the current version keeps serving.`);
    list.reload();
  });
  const capacity = useApi<{
    builds_allowed: boolean;
    min_free_mb: number;
    disks: Array<{ what: string; free_mb: number; low: boolean }>;
  }>("/build-capacity");
  const short = capacity.data?.disks.filter((d) => d.low) ?? [];
  const rows = list.data ?? [];
  const current = rows.find((d) => d.status === "succeeded")?.id;
  return (
    <div class="card">
      <div class="spread">
        <h2>Deployments</h2>
        <Button kind="primary" busy={deploy.busy} onClick={() => void deploy.run()}>
          Deploy now
        </Button>
      </div>
      <ErrorNote err={deploy.error ?? rollback.error ?? cancel.error ?? list.error} />
      {capacity.data && !capacity.data.builds_allowed && (
        <p class="note error" role="alert">
          Builds are paused:{" "}
          {short.map((d) => `${d.free_mb} MB free on ${d.what === "docker" ? "Docker's data root" : "the data dir"}`).join(", ")},
          below STAXA_MIN_FREE_DISK_MB={capacity.data.min_free_mb}. Old images and build cache are being pruned; running apps keep
          serving, and rollbacks still work.
        </p>
      )}
      {note && (
        <p class="note ok" role="status">
          {note}
        </p>
      )}
      {list.loading && !list.data && <Loading what="deployments" />}
      {list.data && rows.length === 0 && <p class="muted">No deployments yet.</p>}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table class="stack">
            <thead>
              <tr>
                <th>Deployment</th>
                <th>Status</th>
                <th>Source</th>
                <th>Created</th>
                <th>Finished</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr>
                  <td data-label="Deployment">
                    <code>{d.id}</code>
                    {d.service_name && (
                      <div class="muted">
                        {d.service_name}
                        {d.trigger ? ` · ${d.trigger}` : ""}
                      </div>
                    )}
                    {d.id === current && (
                      <div>
                        <span class="badge ok">current</span>
                      </div>
                    )}
                  </td>
                  <td data-label="Status">
                    <Badge status={d.status} />
                    {d.reason && <div class="muted">{d.reason}</div>}
                  </td>
                  <td data-label="Source">
                    {d.rollback_from ? (
                      `rollback of ${d.rollback_from}`
                    ) : d.commit_sha ? (
                      <code>{d.commit_sha.slice(0, 12)}</code>
                    ) : (
                      txt(d.image ?? d.branch)
                    )}
                  </td>
                  <td data-label="Created">
                    <When at={d.created_at} />
                  </td>
                  <td data-label="Finished">
                    <When at={d.finished_at} />
                  </td>
                  <td data-label="Actions">
                    <div class="actions" style="margin:0">
                      <Button
                        class="btn small"
                        onClick={() => setShowLog(showLog === d.id ? null : d.id)}
                        aria-expanded={showLog === d.id}
                      >
                        Log
                      </Button>
                      {["queued", "building", "deploying"].includes(d.status) && (
                        <Button
                          class="btn small"
                          busy={cancel.busy}
                          onClick={() => {
                            if (confirm(`Cancel ${d.id}? The current version keeps serving.`)) void cancel.run(d.id);
                          }}
                        >
                          Cancel
                        </Button>
                      )}
                      {d.status === "succeeded" && d.id !== current && (
                        <Button
                          class="btn small"
                          busy={rollback.busy}
                          onClick={() => {
                            if (confirm(`Roll back to ${d.id}? Its image is redeployed without a rebuild.`))
                              void rollback.run(d.id);
                          }}
                        >
                          Roll back
                        </Button>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {showLog && (
        <>
          <h3>
            Build log of <code>{showLog}</code>
          </h3>
          <LogView
            label={`Build log of ${showLog}`}
            path={`${p.base}/deployments/${seg(showLog)}/logs`}
            version={p.changed}
            finished={isFinished(rows.find((d) => d.id === showLog)?.status)}
          />
        </>
      )}
    </div>
  );
}
