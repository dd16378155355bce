/** @jsxImportSource preact */
// The cluster's nodes (swarm engine): role, address, availability, state, resources and the tenants placed on each;
// drain/activate; the command a new server runs to join. On the single-host engine the API answers 409
// not_clustered, and the page says what that means instead of showing an error.
import { useState } from "preact/hooks";
import { api, seg, type ApiError } from "../api.ts";
import { useAction, useApi } from "../hooks.ts";
import { Badge, Button, CopyButton, ErrorNote, Loading, txt } from "../components/ui.tsx";

export interface NodeTask {
  tenant: string;
  service: string;
  state: string;
}
export interface ClusterNode {
  id: string;
  hostname: string;
  role: "manager" | "worker";
  leader: boolean;
  address: string;
  availability: "active" | "pause" | "drain";
  state: string;
  engine_version?: string;
  resources: { cpus: number; memory_bytes: number };
  tasks: NodeTask[];
}
interface JoinCommand {
  role: "worker" | "manager";
  argv: string[];
  manager_address: string;
}

/** "2 CPUs · 3.8 GiB" (nothing known → a dash). */
export function resourcesText(r: ClusterNode["resources"] | undefined): string {
  if (!r || (!r.cpus && !r.memory_bytes)) return txt(null);
  const cpus = `${Number(r.cpus.toFixed(2))} CPU${r.cpus === 1 ? "" : "s"}`;
  return `${cpus} · ${(r.memory_bytes / 1073741824).toFixed(1)} GiB`;
}

/** The tasks of a node grouped by tenant: [tenant, "web ×2, worker"] in tenant order. */
export function placedTenants(tasks: NodeTask[]): [string, string][] {
  const by = new Map<string, Map<string, number>>();
  for (const t of tasks) {
    const s = by.get(t.tenant) ?? new Map<string, number>();
    s.set(t.service, (s.get(t.service) ?? 0) + 1);
    by.set(t.tenant, s);
  }
  return [...by.keys()]
    .sort()
    .map((tenant) => [tenant, [...by.get(tenant)!].map(([svc, n]) => (n > 1 ? `${svc} ×${n}` : svc)).join(", ")]);
}

/** The join argv as one line to paste into a shell: words with anything but safe characters are single-quoted. */
export function commandLine(argv: string[]): string {
  return argv.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(" ");
}

/** The single-host engine's answer to every nodes call (409 not_clustered): explained, not shown as a failure. */
export function isNotClustered(err: ApiError | null | undefined): boolean {
  return err?.status === 409 && err.code === "not_clustered";
}

export function NodesPage() {
  const list = useApi<ClusterNode[]>("/nodes");
  const act = useAction(async (id: string, to: "drain" | "activate") => {
    await api("POST", `/nodes/${seg(id)}/${to}`);
    list.reload();
  });
  if (list.error && isNotClustered(list.error)) return <NotClustered message={list.error.message} />;
  return (
    <section>
      <div class="spread">
        <h1>Nodes</h1>
        <Button onClick={list.reload} busy={list.loading}>
          Refresh
        </Button>
      </div>
      <ErrorNote err={list.error} />
      <ErrorNote err={act.error} />
      {list.loading && !list.data && <Loading what="nodes" />}
      {list.data && (
        <div class="table-wrap card">
          <table class="stack" aria-busy={list.loading}>
            <caption class="sr-only">Nodes of the cluster</caption>
            <thead>
              <tr>
                <th>Node</th>
                <th>Role</th>
                <th>Address</th>
                <th>Availability</th>
                <th>State</th>
                <th>Resources</th>
                <th>Tenants placed</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((n) => (
                <tr>
                  <td data-label="Node">
                    {n.hostname}
                    <div class="muted">
                      <code>{n.id.slice(0, 12)}</code>
                    </div>
                  </td>
                  <td data-label="Role">
                    {n.role} {n.leader && <span class="badge neutral">leader</span>}
                  </td>
                  <td data-label="Address">{txt(n.address)}</td>
                  <td data-label="Availability">
                    <Badge status={n.availability} />
                  </td>
                  <td data-label="State">
                    <Badge status={n.state} />
                  </td>
                  <td data-label="Resources">{resourcesText(n.resources)}</td>
                  <td data-label="Tenants placed">
                    {n.tasks.length === 0 ? (
                      <span class="muted">none</span>
                    ) : (
                      <ul>
                        {placedTenants(n.tasks).map(([tenant, services]) => (
                          <li>
                            {tenant} <span class="muted">{services}</span>
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td data-label="Actions">
                    {n.availability === "drain" ? (
                      <Button busy={act.busy} onClick={() => void act.run(n.id, "activate")}>
                        Activate
                      </Button>
                    ) : (
                      <Button
                        busy={act.busy}
                        onClick={() => {
                          if (confirm(`Drain ${n.hostname}? Swarm moves its tasks to the other nodes.`))
                            void act.run(n.id, "drain");
                        }}
                      >
                        Drain
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data && <JoinCard />}
    </section>
  );
}

function JoinCard() {
  const [cmd, setCmd] = useState<JoinCommand | null>(null);
  const join = useAction(async (role: "worker" | "manager") => {
    setCmd((await api<JoinCommand>("POST", `/nodes/join-token${role === "manager" ? "?role=manager" : ""}`)).data);
  });
  return (
    <div class="card">
      <h2>Add a server</h2>
      <p class="muted">
        Run the command on the new server (Docker installed, port 2377 of the manager reachable). It carries the cluster's join
        token: treat it as a secret.
      </p>
      <div class="actions">
        <Button busy={join.busy} onClick={() => void join.run("worker")}>
          Show worker join command
        </Button>
        <Button busy={join.busy} onClick={() => void join.run("manager")}>
          Show manager join command
        </Button>
      </div>
      <ErrorNote err={join.error} />
      {cmd && (
        <div role="status">
          <p>
            Joins as a <strong>{cmd.role}</strong> through {cmd.manager_address}:
          </p>
          {/* The token is long and unbroken: wrap it rather than widen a phone's page. */}
          <pre style="white-space:pre-wrap;overflow-wrap:anywhere">
            <code>{commandLine(cmd.argv)}</code>
          </pre>
          <CopyButton text={commandLine(cmd.argv)} label="Copy command" />
        </div>
      )}
    </div>
  );
}

function NotClustered(props: { message: string }) {
  return (
    <section>
      <h1>Nodes</h1>
      <div class="card" role="status">
        <h2>This appliance runs on one server</h2>
        <p>{props.message}</p>
        <p class="muted">
          The API answers <code>409 not_clustered</code> for every nodes call on the single-host engine. To run tenants across
          several servers, start the appliance with <code>STAXA_ENGINE=swarm</code> against a Docker Swarm manager (see
          docs/swarm.md); its nodes then appear here.
        </p>
      </div>
    </section>
  );
}
