/** @jsxImportSource preact */
// Services: the tenant's container groups; add, remove, deploy one or all, per-service logs.
import { useEffect, useState } from "preact/hooks";
import { api, seg } from "../../api.ts";
import { useAction, useApi } from "../../hooks.ts";
import { Badge, Button, ErrorNote, Field, Link, Loading, Select, txt } from "../../components/ui.tsx";
import type { Service, TabProps } from "./index.tsx";

const EMPTY = { name: "", source_type: "github", repo_url: "", branch: "main", image_url: "", port: "", is_routable: false, resource_size: "small" };

export function Services(p: TabProps) {
  const list = useApi<Service[]>(`${p.base}/services`);
  useEffect(() => { if (p.changed) list.reload(); }, [p.changed]);
  const [f, setF] = useState(EMPTY);
  const [note, setNote] = useState("");
  const [adding, setAdding] = useState(false);
  const set = (k: keyof typeof EMPTY) => (v: string) => setF((o) => ({ ...o, [k]: v }));

  const add = useAction(async () => {
    const body: Record<string, unknown> = { name: f.name.trim(), source_type: f.source_type, is_routable: f.is_routable, resource_size: f.resource_size };
    if (f.source_type === "image") body.image_url = f.image_url.trim();
    else Object.assign(body, { repo_url: f.repo_url.trim(), branch: f.branch.trim() || "main" });
    if (f.port) body.port = Number(f.port);
    await api("POST", `${p.base}/services`, body);
    setNote(`Service ${body.name} added; its first deployment is queued.`);
    setF(EMPTY);
    setAdding(false);
    list.reload();
  });
  const act = useAction(async (kind: "deploy" | "remove" | "all", name?: string) => {
    if (kind === "all") {
      await api("POST", `${p.base}/deploy`);
      setNote("Deploying all services.");
    } else if (kind === "deploy") {
      const r = await api<{ id: string }>("POST", `${p.base}/services/${seg(name!)}/deploy`);
      setNote(`Deployment ${r.data?.id ?? ""} of ${name} queued.`);
    } else {
      await api("DELETE", `${p.base}/services/${seg(name!)}`);
      setNote(`Service ${name} removed.`);
    }
    list.reload();
  });

  const rows = list.data ?? [];
  const fields = ["name", "source_type", "repo_url", "branch", "image_url", "port", "resource_size", "is_routable"];
  return (
    <div class="card">
      <div class="spread">
        <h2>Services</h2>
        <div class="actions" style="margin:0">
          <Button busy={act.busy} onClick={() => void act.run("all")}>Deploy all</Button>
          <Button kind="primary" onClick={() => setAdding(!adding)} aria-expanded={adding}>Add service</Button>
        </div>
      </div>
      <ErrorNote err={act.error ?? list.error} />
      {note && <p class="note ok" role="status">{note}</p>}
      {adding && (
        <form class="card" onSubmit={(e) => { e.preventDefault(); void add.run(); }} noValidate>
          <h3>New service</h3>
          <div class="row">
            <Field label="Name" name="name" value={f.name} err={add.error} onValue={set("name")} />
            <Select label="Source" name="source_type" value={f.source_type} options={[["github", "Git repository"], ["image", "Container image"]]} err={add.error} onValue={set("source_type")} />
          </div>
          {f.source_type === "image"
            ? <Field label="Image" name="image_url" value={f.image_url} err={add.error} onValue={set("image_url")} />
            : <div class="row"><Field label="Repository URL" name="repo_url" value={f.repo_url} err={add.error} onValue={set("repo_url")} /><Field label="Branch" name="branch" value={f.branch} err={add.error} onValue={set("branch")} /></div>}
          <div class="row">
            <Field label="Port" name="port" type="number" min={1} max={65535} value={f.port} err={add.error} onValue={set("port")} />
            <Select label="Resource size" name="resource_size" value={f.resource_size} options={[["small", "small"], ["medium", "medium"], ["large", "large"]]} err={add.error} onValue={set("resource_size")} />
          </div>
          <label class="check"><input type="checkbox" checked={f.is_routable} onChange={(e) => setF((o) => ({ ...o, is_routable: (e.currentTarget as HTMLInputElement).checked }))} /> Receives HTTP traffic (routable)</label>
          <ErrorNote err={add.error} fields={fields} />
          <Button type="submit" kind="primary" busy={add.busy}>Add and deploy</Button>
        </form>
      )}
      {list.loading && !list.data && <Loading what="services" />}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table class="stack">
            <thead><tr><th>Service</th><th>Status</th><th>Source</th><th>Port</th><th>Host</th><th><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {rows.map((s) => (
                <tr>
                  <td data-label="Service"><strong>{s.name}</strong>{s.is_primary && <> <span class="badge neutral">primary</span></>}</td>
                  <td data-label="Status"><Badge status={s.status} /></td>
                  <td data-label="Source">{s.source_type === "image" ? txt(s.image_url) : `${txt(s.repo_url)} @ ${txt(s.branch)}`}</td>
                  <td data-label="Port">{txt(s.port)}</td>
                  <td data-label="Host">{s.host ? <code>{s.host}</code> : <span class="muted">internal</span>}</td>
                  <td data-label="Actions">
                    <div class="actions" style="margin:0">
                      <Button class="btn small" busy={act.busy} onClick={() => void act.run("deploy", s.name)}>Deploy</Button>
                      <Link class="btn small" href={`/tenants/${encodeURIComponent(p.tenant.id)}/logs?service=${encodeURIComponent(s.name)}`}>Logs</Link>
                      {!s.is_primary && <Button class="btn small" busy={act.busy} onClick={() => { if (confirm(`Remove service ${s.name}? Its containers are stopped and removed.`)) void act.run("remove", s.name); }}>Remove</Button>}
                    </div>
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
