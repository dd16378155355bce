/** @jsxImportSource preact */
// Backups of the tenant's data: the list (status, size, last restore), "Back up now", a restore behind a
// confirmation dialog, delete, and the schedule (cron, keep). Refreshes itself while a backup or restore runs.
import { useEffect, useState } from "preact/hooks";
import { api, seg } from "../../api.ts";
import { useAction, useApi } from "../../hooks.ts";
import { Badge, Button, ErrorNote, Field, Loading, When } from "../../components/ui.tsx";
import type { TabProps } from "./index.tsx";
import { RestoreDialog } from "./restore-dialog.tsx";

interface Backup {
  id: string;
  service: string;
  kind: string;
  method: string;
  status: string;
  reason: string | null;
  size_bytes: number | null;
  created_at: string;
  restore_status: string | null;
  restore_reason: string | null;
  restored_at: string | null;
}
interface Schedule {
  cron: string;
  keep: number;
  next_run_at: string | null;
}

const size = (n: number | null) =>
  n === null ? "—" : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
const underWay = (b: Backup) => b.status === "queued" || b.status === "running" || b.restore_status === "running";

function ScheduleForm(p: { base: string }) {
  const current = useApi<Schedule>(`${p.base}/backups/schedule`);
  const [f, setF] = useState({ cron: "0 3 * * *", keep: "7" });
  const [note, setNote] = useState("");
  useEffect(() => {
    if (current.data) setF({ cron: current.data.cron, keep: String(current.data.keep) });
  }, [current.data]);
  const save = useAction(async () => {
    const r = await api<Schedule>("PUT", `${p.base}/backups/schedule`, { cron: f.cron.trim(), keep: Number(f.keep) });
    setNote(`Saved; next backup ${r.data?.next_run_at ?? "—"} (UTC).`);
    current.reload();
  });
  const off = useAction(async () => {
    await api("DELETE", `${p.base}/backups/schedule`);
    setNote("Schedule removed; its backups stay.");
    current.reload();
  });
  return (
    <form
      class="card"
      onSubmit={(e) => {
        e.preventDefault();
        void save.run();
      }}
      noValidate
    >
      <h3>Schedule</h3>
      <p class="muted">
        {current.data ? (
          <>
            Next backup <When at={current.data.next_run_at} />; the newest {current.data.keep} scheduled backups per service are
            kept.
          </>
        ) : (
          "No schedule: backups are taken only on demand."
        )}
      </p>
      <div class="row">
        <Field
          label="Cron (UTC)"
          name="cron"
          value={f.cron}
          hint="minute hour day month weekday"
          err={save.error}
          onValue={(v) => setF((o) => ({ ...o, cron: v }))}
        />
        <Field
          label="Keep"
          name="keep"
          type="number"
          min={1}
          max={100}
          value={f.keep}
          err={save.error}
          onValue={(v) => setF((o) => ({ ...o, keep: v }))}
        />
      </div>
      <ErrorNote err={save.error ?? off.error} fields={["cron", "keep"]} />
      <Button type="submit" kind="primary" busy={save.busy}>
        Save schedule
      </Button>{" "}
      {current.data && (
        <Button busy={off.busy} onClick={() => void off.run()}>
          Remove schedule
        </Button>
      )}
      {note && (
        <p class="note ok" role="status">
          {note}
        </p>
      )}
    </form>
  );
}

export function Backups(p: TabProps) {
  const list = useApi<Backup[]>(`${p.base}/backups`);
  const [note, setNote] = useState("");
  const [confirming, setConfirming] = useState<Backup | null>(null);
  const rows = list.data ?? [];
  const busy = rows.some(underWay);
  useEffect(() => {
    if (!busy) return;
    const t = setTimeout(() => list.reload(), 2000);
    return () => clearTimeout(t);
  }, [busy, list.data]);
  const now = useAction(async () => {
    const r = await api<Backup[]>("POST", `${p.base}/backups`);
    setNote(`Backup queued for ${(r.data ?? []).map((b) => b.service).join(", ")}.`);
    list.reload();
  });
  const restore = useAction(async (b: Backup) => {
    await api("POST", `${p.base}/backups/${seg(b.id)}/restore`);
    setConfirming(null);
    setNote(`Restoring ${b.id} into ${b.service}…`);
    list.reload();
  });
  const del = useAction(async (b: Backup) => {
    await api("DELETE", `${p.base}/backups/${seg(b.id)}`);
    setNote(`Backup ${b.id} deleted.`);
    list.reload();
  });
  return (
    <div class="card">
      <div class="spread">
        <h2>Backups</h2>
        <Button kind="primary" busy={now.busy} onClick={() => void now.run()}>
          Back up now
        </Button>
      </div>
      <p class="muted">
        Postgres services are dumped while they run; other services with volumes are stopped for a moment while their volumes are
        copied. Every backup is encrypted with this appliance's key.
      </p>
      <ErrorNote err={now.error ?? restore.error ?? del.error ?? list.error} />
      {note && (
        <p class="note ok" role="status">
          {note}
        </p>
      )}
      {confirming && (
        <RestoreDialog
          backup={confirming}
          busy={restore.busy}
          onConfirm={() => void restore.run(confirming)}
          onCancel={() => setConfirming(null)}
        />
      )}
      {list.loading && !list.data && <Loading what="backups" />}
      {list.data && rows.length === 0 && <p class="muted">No backups yet.</p>}
      {rows.length > 0 && (
        <table class="stack">
          <thead>
            <tr>
              <th>Created</th>
              <th>Service</th>
              <th>Kind</th>
              <th>Method</th>
              <th>Status</th>
              <th>Size</th>
              <th>Last restore</th>
              <th>
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((b) => (
              <tr data-backup={b.id}>
                <td data-label="Created">
                  <When at={b.created_at} />
                </td>
                <td data-label="Service">{b.service}</td>
                <td data-label="Kind">{b.kind}</td>
                <td data-label="Method">{b.method === "pg_dump" ? "Postgres dump" : "volume copy"}</td>
                <td data-label="Status">
                  <Badge status={b.status} /> {b.reason ?? ""}
                </td>
                <td data-label="Size">{size(b.size_bytes)}</td>
                <td data-label="Last restore">
                  {b.restore_status ? <Badge status={b.restore_status} /> : "—"} {b.restore_reason ?? ""}
                </td>
                <td data-label="Actions">
                  <Button class="btn small" disabled={b.status !== "succeeded" || busy} onClick={() => setConfirming(b)}>
                    Restore
                  </Button>{" "}
                  <Button
                    class="btn small"
                    kind="danger"
                    disabled={underWay(b)}
                    busy={del.busy}
                    onClick={() => {
                      if (confirm(`Delete backup ${b.id}? Its file is removed.`)) void del.run(b);
                    }}
                  >
                    Delete
                  </Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ScheduleForm base={p.base} />
    </div>
  );
}
