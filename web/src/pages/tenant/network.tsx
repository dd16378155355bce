/** @jsxImportSource preact */
// Network rules: inbound (a server port forwarded to a service's port for listed source CIDRs, shown as its
// connection string) and, only when egress is restricted, outbound allow-list entries; each with an optional TTL.
import { useEffect, useState } from "preact/hooks";
import { api, seg } from "../../api.ts";
import { useAction, useApi } from "../../hooks.ts";
import { Badge, Button, CopyButton, ErrorNote, Field, Loading, Select, When, txt } from "../../components/ui.tsx";
import type { TabProps } from "./index.tsx";

export interface Rule {
  id: string;
  direction: string;
  protocol: string;
  target_service?: string | null;
  target_port?: number | null;
  allocated_port?: number | null;
  destination_port?: number | null;
  source_cidrs?: string[];
  destination_cidrs?: string[];
  status: string;
  connection_string?: string | null;
  description?: string | null;
  expires_at?: string | null;
  created_at?: string;
}

/** "a, b c" → ["a", "b", "c"]: the API validates each entry and names the field when one is wrong. */
export const cidrs = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

const EMPTY = {
  direction: "inbound",
  protocol: "tcp",
  target_service: "",
  target_port: "",
  source_cidrs: "",
  destination_cidrs: "",
  destination_port: "",
  ttl_hours: "",
  description: "",
};
const FIELDS = Object.keys(EMPTY);

/** The request body of the form: only the fields of its direction (the API refuses the others). */
export function ruleBody(f: typeof EMPTY): Record<string, unknown> {
  const body: Record<string, unknown> = { direction: f.direction, protocol: f.protocol };
  const num = (v: string) => (v.trim() === "" ? undefined : Number(v));
  if (f.direction === "inbound") {
    body.target_service = f.target_service;
    body.target_port = num(f.target_port);
    body.source_cidrs = cidrs(f.source_cidrs);
  } else {
    body.destination_cidrs = cidrs(f.destination_cidrs);
    body.destination_port = num(f.destination_port);
  }
  if (f.ttl_hours.trim()) body.ttl_hours = num(f.ttl_hours);
  if (f.description.trim()) body.description = f.description.trim();
  return body;
}

export function NetworkRules(p: TabProps) {
  const [showAll, setShowAll] = useState(false);
  const list = useApi<Rule[]>(`${p.base}/network-rules${showAll ? "?status=all" : ""}`);
  useEffect(() => {
    if (p.changed) list.reload();
  }, [p.changed]);
  const services = p.tenant.services;
  const primary = services.find((s) => s.is_primary) ?? services[0];
  const restricted = p.tenant.egress_mode === "restricted";
  const [f, setF] = useState({ ...EMPTY, target_service: primary?.name ?? "" });
  const set = (k: keyof typeof EMPTY) => (v: string) => setF((o) => ({ ...o, [k]: v }));
  const [note, setNote] = useState("");
  const target = services.find((s) => s.name === f.target_service);
  const create = useAction(async () => {
    const form = restricted ? f : { ...f, direction: "inbound" };
    // An empty target port means the service's own port, when it has one.
    const body = ruleBody(
      form.direction === "inbound" && !form.target_port.trim() && target?.port
        ? { ...form, target_port: String(target.port) }
        : form,
    );
    const r = await api<Rule>("POST", `${p.base}/network-rules`, body);
    setNote(r.data?.connection_string ? `Rule created: connect to ${r.data.connection_string}.` : "Rule created.");
    setF((o) => ({ ...EMPTY, direction: o.direction, target_service: o.target_service }));
    list.reload();
  });
  const del = useAction(async (r: Rule) => {
    await api("DELETE", `${p.base}/network-rules/${seg(r.id)}`);
    setNote(r.allocated_port ? `Rule deleted: port ${r.allocated_port} is closed.` : "Rule deleted.");
    list.reload();
  });
  const inbound = !restricted || f.direction === "inbound";
  const rows = list.data ?? [];
  return (
    <div class="card">
      <h2>Network rules</h2>
      <p class="muted">
        Inbound rules open a port on the server, forwarded to a service, for the listed source networks only.{" "}
        {restricted ? (
          <>
            Egress is <strong>restricted</strong>: containers reach only the destinations of outbound rules.
          </>
        ) : (
          <>
            Egress is <strong>open</strong>: containers may reach any destination (restrict it in Settings to manage outbound
            rules).
          </>
        )}
      </p>
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
        noValidate
      >
        <h3>New rule</h3>
        <div class="row">
          {restricted && (
            <Select
              label="Direction"
              name="direction"
              value={f.direction}
              options={[
                ["inbound", "inbound"],
                ["outbound", "outbound"],
              ]}
              err={create.error}
              onValue={set("direction")}
            />
          )}
          <Select
            label="Protocol"
            name="protocol"
            value={f.protocol}
            options={[
              ["tcp", "tcp"],
              ["udp", "udp"],
            ]}
            err={create.error}
            onValue={set("protocol")}
          />
          <Field
            label="Expires after (hours, optional)"
            name="ttl_hours"
            type="number"
            min={1}
            max={8760}
            value={f.ttl_hours}
            err={create.error}
            onValue={set("ttl_hours")}
          />
        </div>
        {inbound ? (
          <div class="row">
            <Select
              label="Target service"
              name="target_service"
              value={f.target_service}
              options={services.map((s) => [s.name, s.is_primary ? `${s.name} (primary)` : s.name] as [string, string])}
              err={create.error}
              onValue={set("target_service")}
            />
            <Field
              label="Target port"
              name="target_port"
              type="number"
              min={1}
              max={65535}
              value={f.target_port}
              placeholder={target?.port ? String(target.port) : "5432"}
              hint="The port inside the container."
              err={create.error}
              onValue={set("target_port")}
            />
            <Field
              label="Allowed source CIDRs"
              name="source_cidrs"
              value={f.source_cidrs}
              err={create.error}
              placeholder="203.0.113.0/24"
              hint="Comma or space separated; at most 20, none wider than /8."
              onValue={set("source_cidrs")}
            />
          </div>
        ) : (
          <div class="row">
            <Field
              label="Destination CIDRs"
              name="destination_cidrs"
              value={f.destination_cidrs}
              err={create.error}
              placeholder="10.0.0.0/8"
              hint="Comma or space separated."
              onValue={set("destination_cidrs")}
            />
            <Field
              label="Destination port"
              name="destination_port"
              type="number"
              min={1}
              max={65535}
              value={f.destination_port}
              err={create.error}
              onValue={set("destination_port")}
            />
          </div>
        )}
        <Field
          label="Description (optional)"
          name="description"
          value={f.description}
          err={create.error}
          onValue={set("description")}
        />
        <ErrorNote err={create.error} fields={FIELDS} />
        <Button type="submit" kind="primary" busy={create.busy}>
          Create rule
        </Button>
      </form>
      <ErrorNote err={del.error ?? list.error} />
      {note && (
        <p class="note ok" role="status">
          {note}
        </p>
      )}
      <label class="check">
        <input type="checkbox" checked={showAll} onChange={(e) => setShowAll((e.currentTarget as HTMLInputElement).checked)} />{" "}
        Show expired rules too
      </label>
      {list.loading && !list.data && <Loading what="rules" />}
      {list.data && rows.length === 0 && <p class="muted">No {showAll ? "" : "active "}network rules.</p>}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table class="stack">
            <thead>
              <tr>
                <th>Rule</th>
                <th>Status</th>
                <th>Forwarding</th>
                <th>Sources / destinations</th>
                <th>Connection</th>
                <th>Expires</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr data-rule={r.id}>
                  <td data-label="Rule">
                    {r.direction} {r.protocol}
                    {r.description && <div class="muted">{r.description}</div>}
                  </td>
                  <td data-label="Status">
                    <Badge status={r.status} />
                  </td>
                  <td data-label="Forwarding">
                    {r.direction === "inbound"
                      ? `port ${txt(r.allocated_port)} → ${txt(r.target_service)}:${txt(r.target_port)}`
                      : `port ${txt(r.destination_port)}`}
                  </td>
                  <td data-label={r.direction === "inbound" ? "Sources" : "Destinations"}>
                    {txt(r.direction === "inbound" ? r.source_cidrs : r.destination_cidrs)}
                  </td>
                  <td data-label="Connection">
                    {r.connection_string ? (
                      <>
                        <code>{r.connection_string}</code>{" "}
                        <CopyButton text={r.connection_string} label="Copy connection string" />
                      </>
                    ) : (
                      "—"
                    )}
                  </td>
                  <td data-label="Expires">{r.expires_at ? <When at={r.expires_at} /> : "never"}</td>
                  <td data-label="Actions">
                    {r.status === "active" && (
                      <Button
                        class="btn small"
                        busy={del.busy}
                        onClick={() => {
                          if (confirm("Delete this rule?")) void del.run(r);
                        }}
                      >
                        Delete
                      </Button>
                    )}
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
