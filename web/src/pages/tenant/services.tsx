/** @jsxImportSource preact */
// Services: the tenant's container groups; add (source, port, routable, volumes), remove (never the primary),
// deploy one or all, and each service's container log.
import { useEffect, useState } from "preact/hooks";
import { api, seg } from "../../api.ts";
import { useAction, useApi } from "../../hooks.ts";
import { LogView } from "../../components/log-view.tsx";
import { Badge, Button, ErrorNote, Field, Loading, Select, fieldIs, txt } from "../../components/ui.tsx";
import type { Service, TabProps } from "./index.tsx";
import { Replicas } from "./replicas.tsx";

interface Volume {
  name: string;
  mount_path: string;
}
const EMPTY = {
  name: "",
  source_type: "image",
  repo_url: "",
  branch: "main",
  image_url: "",
  port: "",
  is_routable: false,
  resource_size: "small",
};
type Form = typeof EMPTY;

/** The POST body of a new service: only the fields of its source, volumes without blank rows. */
export function serviceBody(f: Form, volumes: Volume[]): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: f.name.trim(),
    source_type: f.source_type,
    is_routable: f.is_routable,
    resource_size: f.resource_size,
  };
  if (f.source_type === "image") body.image_url = f.image_url.trim();
  else Object.assign(body, { repo_url: f.repo_url.trim(), branch: f.branch.trim() || "main" });
  if (f.port.trim()) body.port = Number(f.port);
  const vols = volumes
    .filter((v) => v.name.trim() || v.mount_path.trim())
    .map((v) => ({ name: v.name.trim(), mount_path: v.mount_path.trim() }));
  if (vols.length) body.volumes = vols;
  return body;
}

export function Services(p: TabProps) {
  const list = useApi<Service[]>(`${p.base}/services`);
  useEffect(() => {
    if (p.changed) list.reload();
  }, [p.changed]);
  const [f, setF] = useState(EMPTY);
  const [volumes, setVolumes] = useState<Volume[]>([]);
  const [note, setNote] = useState("");
  const [adding, setAdding] = useState(false);
  const [logsOf, setLogsOf] = useState<string | null>(null);
  const [logVersion, setLogVersion] = useState(0);
  const set = (k: keyof Form) => (v: string) => setF((o) => ({ ...o, [k]: v }));
  const setVol = (i: number, patch: Partial<Volume>) => setVolumes((vs) => vs.map((v, j) => (j === i ? { ...v, ...patch } : v)));

  const add = useAction(async () => {
    const body = serviceBody(f, volumes);
    const r = await api<{ deployment_id?: string; current_deployment_id?: string | null }>("POST", `${p.base}/services`, body);
    const dep = r.data?.deployment_id ?? (r.meta.deployment_id as string | undefined);
    setNote(`Service ${body.name} added; its first deployment${dep ? ` (${dep})` : ""} is queued.`);
    setF(EMPTY);
    setVolumes([]);
    setAdding(false);
    list.reload();
    p.reload();
  });
  const act = useAction(async (kind: "deploy" | "remove" | "all", name?: string) => {
    if (kind === "all") {
      const r = await api("POST", `${p.base}/deploy`);
      const ids = (r.meta.deployment_ids as string[] | undefined) ?? [];
      setNote(`Deploying all services${ids.length ? ` (${ids.join(", ")})` : ""}: follow it on the Overview tab.`);
    } else if (kind === "deploy") {
      const r = await api<{ id: string }>("POST", `${p.base}/services/${seg(name!)}/deploy`);
      setNote(`Deployment ${txt(r.data?.id)} of ${name} queued.`);
    } else {
      await api("DELETE", `${p.base}/services/${seg(name!)}`);
      setNote(`Service ${name} removed.`);
      if (logsOf === name) setLogsOf(null);
      p.reload();
    }
    list.reload();
  });

  const rows = list.data ?? [];
  const err = add.error;
  const volErr = (i: number) => (err?.field?.startsWith(`volumes[${i}]`) ? err.message : null);
  const fields = ["name", "source_type", "repo_url", "branch", "image_url", "port", "resource_size", "is_routable", "volumes"];
  return (
    <div class="card">
      <div class="spread">
        <h2>Services</h2>
        <div class="actions" style="margin:0">
          <Button busy={act.busy} onClick={() => void act.run("all")}>
            Deploy all
          </Button>
          <Button kind="primary" onClick={() => setAdding(!adding)} aria-expanded={adding}>
            Add service
          </Button>
        </div>
      </div>
      <ErrorNote err={act.error ?? list.error} />
      {note && (
        <p class="note ok" role="status">
          {note}
        </p>
      )}
      {adding && (
        <form
          class="card"
          aria-label="New service"
          onSubmit={(e) => {
            e.preventDefault();
            void add.run();
          }}
          noValidate
        >
          <h3>New service</h3>
          <div class="row">
            <Field label="Service name" name="name" value={f.name} err={err} placeholder="worker" onValue={set("name")} />
            <Select
              label="Source"
              name="source_type"
              value={f.source_type}
              options={[
                ["image", "Container image"],
                ["github", "Git repository"],
              ]}
              err={err}
              onValue={set("source_type")}
            />
          </div>
          {f.source_type === "image" ? (
            <Field
              label="Image"
              name="image_url"
              value={f.image_url}
              err={err}
              placeholder="redis:7"
              onValue={set("image_url")}
            />
          ) : (
            <div class="row">
              <Field label="Repository URL" name="repo_url" value={f.repo_url} err={err} onValue={set("repo_url")} />
              <Field label="Branch" name="branch" value={f.branch} err={err} onValue={set("branch")} />
            </div>
          )}
          <div class="row">
            <Field
              label="Port (optional)"
              name="port"
              type="number"
              min={1}
              max={65535}
              value={f.port}
              err={err}
              onValue={set("port")}
            />
            <Select
              label="Resource size"
              name="resource_size"
              value={f.resource_size}
              options={[
                ["small", "small"],
                ["medium", "medium"],
                ["large", "large"],
              ]}
              err={err}
              onValue={set("resource_size")}
            />
          </div>
          <label class="check">
            <input
              type="checkbox"
              name="is_routable"
              checked={f.is_routable}
              onChange={(e) => setF((o) => ({ ...o, is_routable: (e.currentTarget as HTMLInputElement).checked }))}
            />{" "}
            Receives HTTP traffic (routable: gets its own host name)
          </label>
          <fieldset class={`field${err?.field === "volumes" ? " invalid" : ""}`} style="border:0;padding:0">
            <legend class="label">Volumes (persist across deployments)</legend>
            {volumes.map((v, i) => (
              <div class={`vol-row${volErr(i) ? " invalid" : ""}`}>
                <Field
                  label={`Volume ${i + 1} name`}
                  name={`volume-${i}-name`}
                  value={v.name}
                  placeholder="data"
                  onValue={(name) => setVol(i, { name })}
                />
                <Field
                  label={`Volume ${i + 1} mount path`}
                  name={`volume-${i}-path`}
                  value={v.mount_path}
                  placeholder="/data"
                  onValue={(mount_path) => setVol(i, { mount_path })}
                />
                <Button
                  class="btn small"
                  style="margin-top:1.6rem"
                  aria-label={`Remove volume ${i + 1}`}
                  onClick={() => setVolumes((vs) => vs.filter((_, j) => j !== i))}
                >
                  Remove
                </Button>
                {volErr(i) && (
                  <p class="field-error" role="alert" style="grid-column:1/-1">
                    {volErr(i)}
                  </p>
                )}
              </div>
            ))}
            {err?.field === "volumes" && (
              <p class="field-error" role="alert">
                {err.message}
              </p>
            )}
            <div>
              <Button
                class="btn small"
                disabled={volumes.length >= 5}
                onClick={() => setVolumes((vs) => [...vs, { name: "", mount_path: "" }])}
              >
                Add volume
              </Button>
            </div>
          </fieldset>
          {!fieldIs(err, "volumes") && <ErrorNote err={err} fields={fields} />}
          <Button type="submit" kind="primary" busy={add.busy}>
            Add and deploy
          </Button>
        </form>
      )}
      {list.loading && !list.data && <Loading what="services" />}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table class="stack">
            <thead>
              <tr>
                <th>Service</th>
                <th>Status</th>
                <th>Source</th>
                <th>Port</th>
                <th>Host</th>
                <th>Replicas</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((s) => (
                <tr data-service={s.name}>
                  <td data-label="Service">
                    <strong>{s.name}</strong>
                    {s.is_primary && (
                      <>
                        {" "}
                        <span class="badge neutral">primary</span>
                      </>
                    )}
                    {s.volumes?.length ? (
                      <div class="muted">{s.volumes.map((v) => `${v.name} → ${v.mount_path}`).join(", ")}</div>
                    ) : null}
                  </td>
                  <td data-label="Status">
                    <Badge status={s.status} />
                  </td>
                  <td data-label="Source">
                    {s.source_type === "image" ? txt(s.image_url) : `${txt(s.repo_url)} @ ${txt(s.branch)}`}
                  </td>
                  <td data-label="Port">{txt(s.port)}</td>
                  <td data-label="Host">{s.host ? <code>{s.host}</code> : <span class="muted">internal</span>}</td>
                  <td data-label="Replicas">
                    <Replicas base={p.base} service={s} onChanged={() => list.reload()} />
                  </td>
                  <td data-label="Actions">
                    <div class="actions" style="margin:0">
                      <Button
                        class="btn small"
                        busy={act.busy}
                        onClick={() => void act.run("deploy", s.name)}
                        aria-label={`Deploy ${s.name}`}
                      >
                        Deploy
                      </Button>
                      <Button
                        class="btn small"
                        onClick={() => setLogsOf(logsOf === s.name ? null : s.name)}
                        aria-expanded={logsOf === s.name}
                        aria-label={`Logs of ${s.name}`}
                      >
                        Logs
                      </Button>
                      {!s.is_primary && (
                        <Button
                          class="btn small"
                          busy={act.busy}
                          aria-label={`Remove ${s.name}`}
                          onClick={() => {
                            if (confirm(`Remove service ${s.name}? Its containers and volumes are removed.`))
                              void act.run("remove", s.name);
                          }}
                        >
                          Remove
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
      {logsOf && (
        <>
          <div class="spread">
            <h3>
              Container log of <code>{logsOf}</code>
            </h3>
            <Button class="btn small" onClick={() => setLogVersion((n) => n + 1)}>
              Refresh
            </Button>
          </div>
          <LogView
            label={`Container log of ${logsOf}`}
            path={`${p.base}/services/${seg(logsOf)}/logs?lines=200`}
            version={logVersion}
          />
        </>
      )}
    </div>
  );
}
