/** @jsxImportSource preact */
// Network rules: inbound (an allocated port, its connection string, allowed sources) and outbound
// (restricted egress allow-list); each with its TTL.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, seg } from "../../api.ts";
import { useAction, useApi } from "../../hooks.ts";
import { Badge, Button, CopyButton, ErrorNote, Field, Loading, Select, When, txt } from "../../components/ui.tsx";
import type { TabProps } from "./index.tsx";

interface Rule {
  id: string; direction: string; protocol: string; target_service?: string | null; target_port?: number | null; allocated_port?: number | null;
  destination_port?: number | null; source_cidrs?: string[]; destination_cidrs?: string[]; status: string; connection_string?: string | null;
  description?: string | null; ttl_hours?: number | null; expires_at?: string | null; created_at?: string;
}

const cidrs = (s: string) => s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);

export function NetworkRules(p: TabProps) {
  const list = useApi<Rule[]>(`${p.base}/network-rules`);
  useEffect(() => { if (p.changed) list.reload(); }, [p.changed]);
  const [f, setF] = useState({ direction: "inbound", protocol: "tcp", target_service: "", target_port: "", source_cidrs: "", destination_cidrs: "", destination_port: "", ttl_hours: "", description: "" });
  const set = (k: keyof typeof f) => (v: string) => setF((o) => ({ ...o, [k]: v }));
  const create = useAction(async () => {
    const inbound = f.direction === "inbound";
    const body: Record<string, unknown> = { direction: f.direction, protocol: f.protocol };
    if (inbound) {
      // "primary" in the picker means the primary service; the API wants its name.
      const primary = p.tenant.services.find((s) => (s as { is_primary?: boolean }).is_primary) ?? p.tenant.services[0];
      const target = f.target_service || primary?.name;
      if (target) body.target_service = target;
      if (f.target_port) body.target_port = Number(f.target_port);
      body.source_cidrs = cidrs(f.source_cidrs);
    } else {
      if (p.tenant.egress_mode !== "restricted") throw new ApiError(422, "egress_open", "Outbound rules need egress mode \"restricted\" (Settings tab).", "direction");
      body.destination_cidrs = cidrs(f.destination_cidrs);
      if (f.destination_port) body.destination_port = Number(f.destination_port);
    }
    if (f.ttl_hours) body.ttl_hours = Number(f.ttl_hours);
    if (f.description.trim()) body.description = f.description.trim();
    await api("POST", `${p.base}/network-rules`, body);
    list.reload();
  });
  const del = useAction(async (id: string) => {
    await api("DELETE", `${p.base}/network-rules/${seg(id)}`);
    list.reload();
  });
  if (list.error?.unavailable) return <div class="card"><h2>Network rules</h2><ErrorNote err={list.error} /></div>;
  const inbound = f.direction === "inbound";
  const fields = ["direction", "protocol", "target_service", "target_port", "source_cidrs", "destination_cidrs", "destination_port", "ttl_hours", "description"];
  return (
    <div class="card">
      <h2>Network rules</h2>
      <p class="muted">Egress mode: <strong>{p.tenant.egress_mode}</strong>. Inbound rules open a port on the server for the listed sources only; outbound rules allow destinations when egress is restricted.</p>
      <form class="card" onSubmit={(e) => { e.preventDefault(); void create.run(); }} noValidate>
        <div class="row">
          <Select label="Direction" name="direction" value={f.direction} options={[["inbound", "inbound"], ["outbound", "outbound"]]} err={create.error} onValue={set("direction")} />
          <Select label="Protocol" name="protocol" value={f.protocol} options={[["tcp", "tcp"], ["udp", "udp"]]} err={create.error} onValue={set("protocol")} />
          <Field label="Expires after (hours, optional)" name="ttl_hours" type="number" min={1} value={f.ttl_hours} err={create.error} onValue={set("ttl_hours")} />
        </div>
        {inbound ? (
          <div class="row">
            <Select label="Target service" name="target_service" value={f.target_service} options={[["", "primary"], ...p.tenant.services.map((s) => [s.name, s.name] as [string, string])]} err={create.error} onValue={set("target_service")} />
            <Field label="Target port" name="target_port" type="number" min={1} max={65535} value={f.target_port} err={create.error} onValue={set("target_port")} />
            <Field label="Allowed source CIDRs" name="source_cidrs" value={f.source_cidrs} err={create.error} placeholder="203.0.113.0/24" hint="Comma or space separated." onValue={set("source_cidrs")} />
          </div>
        ) : (
          <div class="row">
            <Field label="Destination CIDRs" name="destination_cidrs" value={f.destination_cidrs} err={create.error} placeholder="10.0.0.0/8" onValue={set("destination_cidrs")} />
            <Field label="Destination port" name="destination_port" type="number" min={1} max={65535} value={f.destination_port} err={create.error} onValue={set("destination_port")} />
          </div>
        )}
        <Field label="Description (optional)" name="description" value={f.description} err={create.error} onValue={set("description")} />
        <ErrorNote err={create.error} fields={fields} />
        <Button type="submit" kind="primary" busy={create.busy}>Create rule</Button>
      </form>
      <ErrorNote err={del.error ?? list.error} />
      {list.loading && !list.data && <Loading what="rules" />}
      {list.data && list.data.length === 0 && <p class="muted">No network rules.</p>}
      {list.data && list.data.length > 0 && (
        <div class="table-wrap">
          <table class="stack">
            <thead><tr><th>Rule</th><th>Status</th><th>Ports</th><th>Peers</th><th>Connection</th><th>Expires</th><th><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {list.data.map((r) => (
                <tr>
                  <td data-label="Rule">{r.direction} {r.protocol}{r.description && <div class="muted">{r.description}</div>}</td>
                  <td data-label="Status"><Badge status={r.status} /></td>
                  <td data-label="Ports">{r.direction === "inbound" ? `${txt(r.allocated_port)} → ${txt(r.target_service ?? "")}:${txt(r.target_port)}` : txt(r.destination_port)}</td>
                  <td data-label="Peers">{txt(r.direction === "inbound" ? r.source_cidrs : r.destination_cidrs)}</td>
                  <td data-label="Connection">{r.connection_string ? <><code>{r.connection_string}</code> <CopyButton text={r.connection_string} label="Copy connection string" /></> : "—"}</td>
                  <td data-label="Expires">{r.expires_at ? <When at={r.expires_at} /> : r.ttl_hours ? `${r.ttl_hours} h` : "never"}</td>
                  <td data-label="Actions"><Button class="btn small" busy={del.busy} onClick={() => { if (confirm("Delete this rule?")) void del.run(r.id); }}>Delete</Button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
