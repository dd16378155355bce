/** @jsxImportSource preact */
// Scheduled jobs: create (cron, service, one argument per line: an argv, never a shell string), run now, pause,
// resume, delete; a job's runs with status, exit code, duration and the tail of their logs.
import { useEffect, useState } from "preact/hooks";
import { api, seg } from "../../api.ts";
import { useAction, useApi } from "../../hooks.ts";
import { Badge, Button, ErrorNote, Field, Loading, Select, When } from "../../components/ui.tsx";
import type { TabProps } from "./index.tsx";

interface Job {
  id: string;
  service: string;
  schedule: string;
  command: string[];
  timeout_sec: number;
  concurrency_policy: string;
  paused: boolean;
  next_run_at: string | null;
}
interface Run {
  id: string;
  trigger: string;
  status: string;
  exit_code: number | null;
  duration_ms: number | null;
  started_at: string;
  reason: string | null;
  logs?: string;
}

/** The textarea's lines as the argv (blank lines dropped; nothing is split on spaces or quoted). */
export const argvOf = (text: string) =>
  text
    .split("\n")
    .map((l) => l.replace(/\r$/, ""))
    .filter((l) => l.trim() !== "");

const EMPTY = { schedule: "0 * * * *", service: "", command: "", timeout_sec: "3600", concurrency_policy: "forbid" };

function Runs(props: { base: string; job: Job; changed: number }) {
  const runs = useApi<Run[]>(`${props.base}/jobs/${seg(props.job.id)}/runs`);
  const [open, setOpen] = useState<Run | null>(null);
  useEffect(() => {
    if (props.changed) runs.reload();
  }, [props.changed]);
  const show = useAction(async (r: Run) =>
    setOpen((await api<Run>("GET", `${props.base}/jobs/${seg(props.job.id)}/runs/${seg(r.id)}`)).data ?? null),
  );
  return (
    <div>
      <ErrorNote err={runs.error ?? show.error} />
      {runs.data && runs.data.length === 0 && <p class="muted">No runs yet.</p>}
      {runs.data && runs.data.length > 0 && (
        <table class="stack">
          <thead>
            <tr>
              <th>Started</th>
              <th>Trigger</th>
              <th>Status</th>
              <th>Exit</th>
              <th>Duration</th>
              <th>Reason</th>
              <th>
                <span class="sr-only">Logs</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {runs.data.map((r) => (
              <tr data-run={r.id}>
                <td data-label="Started">
                  <When at={r.started_at} />
                </td>
                <td data-label="Trigger">{r.trigger}</td>
                <td data-label="Status">
                  <Badge status={r.status} />
                </td>
                <td data-label="Exit">{r.exit_code ?? "—"}</td>
                <td data-label="Duration">{r.duration_ms === null ? "—" : `${(r.duration_ms / 1000).toFixed(1)} s`}</td>
                <td data-label="Reason">{r.reason ?? ""}</td>
                <td data-label="Logs">
                  <Button class="btn small" onClick={() => void show.run(r)}>
                    Logs
                  </Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {open && (
        <pre class="logs" aria-label={`Logs of run ${open.id}`}>
          {open.logs || "(no output)"}
        </pre>
      )}
      <Button class="btn small" onClick={() => runs.reload()}>
        Refresh runs
      </Button>
    </div>
  );
}

export function Jobs(p: TabProps) {
  const list = useApi<Job[]>(`${p.base}/jobs`);
  useEffect(() => {
    if (p.changed) list.reload();
  }, [p.changed]);
  const services = p.tenant.services;
  const [f, setF] = useState({ ...EMPTY, service: (services.find((s) => s.is_primary) ?? services[0])?.name ?? "" });
  const set = (k: keyof typeof EMPTY) => (v: string) => setF((o) => ({ ...o, [k]: v }));
  const [selected, setSelected] = useState<string | null>(null);
  const [note, setNote] = useState("");
  const create = useAction(async () => {
    const body = {
      schedule: f.schedule.trim(),
      service: f.service,
      command: argvOf(f.command),
      timeout_sec: Number(f.timeout_sec),
      concurrency_policy: f.concurrency_policy,
    };
    const r = await api<Job>("POST", `${p.base}/jobs`, body);
    setNote(`Job created; next run ${r.data?.next_run_at ?? "—"} (UTC).`);
    setF((o) => ({ ...o, command: "" }));
    list.reload();
  });
  const act = useAction(async (j: Job, what: "run" | "pause" | "resume" | "delete") => {
    if (what === "delete") await api("DELETE", `${p.base}/jobs/${seg(j.id)}`);
    else await api("POST", `${p.base}/jobs/${seg(j.id)}/${what}`);
    setNote(what === "run" ? "Run started." : what === "delete" ? "Job deleted." : `Job ${what}d.`);
    if (what === "run") setSelected(j.id);
    list.reload();
  });
  const rows = list.data ?? [];
  return (
    <div class="card">
      <h2>Scheduled jobs</h2>
      <p class="muted">
        Each run is a one-off container from the service's current image, with its environment and limits. Schedules are in UTC.
      </p>
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
        noValidate
      >
        <h3>New job</h3>
        <div class="row">
          <Field
            label="Schedule (cron)"
            name="schedule"
            value={f.schedule}
            hint="minute hour day month weekday"
            err={create.error}
            onValue={set("schedule")}
          />
          <Select
            label="Service"
            name="service"
            value={f.service}
            options={services.map((s) => [s.name, s.name] as [string, string])}
            err={create.error}
            onValue={set("service")}
          />
          <Select
            label="If still running"
            name="concurrency_policy"
            value={f.concurrency_policy}
            options={[
              ["forbid", "skip the new run"],
              ["allow", "run both"],
              ["replace", "replace the old run"],
            ]}
            err={create.error}
            onValue={set("concurrency_policy")}
          />
          <Field
            label="Timeout (s)"
            name="timeout_sec"
            type="number"
            min={1}
            max={86400}
            value={f.timeout_sec}
            err={create.error}
            onValue={set("timeout_sec")}
          />
        </div>
        <label class="field">
          Command, one argument per line
          <textarea
            name="command"
            rows={3}
            value={f.command}
            placeholder={"node\nscripts/cleanup.js"}
            onInput={(e) => set("command")((e.currentTarget as HTMLTextAreaElement).value)}
          />
        </label>
        <ErrorNote err={create.error} fields={Object.keys(EMPTY)} />
        <Button type="submit" kind="primary" busy={create.busy}>
          Create job
        </Button>
      </form>
      <ErrorNote err={act.error ?? list.error} />
      {note && (
        <p class="note ok" role="status">
          {note}
        </p>
      )}
      {list.loading && !list.data && <Loading what="jobs" />}
      {list.data && rows.length === 0 && <p class="muted">No jobs.</p>}
      {rows.map((j) => (
        <div class="card" data-job={j.id}>
          <div class="spread">
            <div>
              <code>{j.schedule}</code> on {j.service}: <code>{JSON.stringify(j.command)}</code>{" "}
              <Badge status={j.paused ? "paused" : "active"} />
            </div>
            <div>
              <Button class="btn small" busy={act.busy} onClick={() => void act.run(j, "run")}>
                Run now
              </Button>{" "}
              <Button class="btn small" busy={act.busy} onClick={() => void act.run(j, j.paused ? "resume" : "pause")}>
                {j.paused ? "Resume" : "Pause"}
              </Button>{" "}
              <Button
                class="btn small"
                kind="danger"
                busy={act.busy}
                onClick={() => {
                  if (confirm("Delete this job?")) void act.run(j, "delete");
                }}
              >
                Delete
              </Button>{" "}
              <Button class="btn small" onClick={() => setSelected(selected === j.id ? null : j.id)}>
                {selected === j.id ? "Hide runs" : "Runs"}
              </Button>
            </div>
          </div>
          <p class="muted">
            {j.paused ? (
              "Paused."
            ) : (
              <>
                Next run <When at={j.next_run_at} />.
              </>
            )}{" "}
            If still running: {j.concurrency_policy}; timeout {j.timeout_sec} s.
          </p>
          {selected === j.id && <Runs base={p.base} job={j} changed={p.changed} />}
        </div>
      ))}
    </div>
  );
}
