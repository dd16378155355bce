// OpenAPI models of the cluster's nodes (an extension of the reference API; swarm engine only).
import { t } from "elysia";

const S = (description?: string) => t.String(description ? { description } : {});

export const Node = t.Object({
  id: S("Swarm's node id"),
  hostname: S(),
  role: S("manager | worker"),
  leader: t.Boolean({ description: "The manager Swarm elected to lead" }),
  address: S("Where the node is reached; tasks' published ports answer here"),
  availability: S("active | pause | drain"),
  state: S("ready | down | unknown | disconnected"),
  engine_version: S(),
  resources: t.Object({ cpus: t.Number(), memory_bytes: t.Integer() }),
  tasks: t.Array(t.Object({ tenant: S(), service: S(), state: S("Swarm's task state (running, starting…)") }), {
    description: "The appliance's tasks placed on the node",
  }),
});

export const JoinCommand = t.Object({
  role: S("worker | manager"),
  argv: t.Array(t.String(), {
    description:
      "The command the new server runs, as argv: docker swarm join --token <token> <manager>:2377. The token is a secret.",
  }),
  manager_address: S(),
  agent_argv: t.Array(t.String(), {
    description:
      "The node agent the new server runs beside dockerd (network rules and isolation on that node): staxa agent --manager <url> --token <token>. The token is a secret.",
  }),
  registry: t.Optional(
    t.Object(
      {
        address: S("host:port of the cluster registry every node pulls the tenants' images from"),
        ca_path: S("Where the new server writes ca_pem before it joins: /etc/docker/certs.d/<address>/ca.crt"),
        ca_pem: S("The registry's CA certificate (PEM)"),
      },
      { description: "The built-in cluster registry's CA the new server must trust (absent without one)" },
    ),
  ),
});

export const nodeModels = {
  id: t.Object({ nodeId: t.String({ maxLength: 64 }) }),
  join: t.Object({ role: t.Optional(t.String({ description: "worker (default) | manager" })) }),
  remove: t.Object({
    force: t.Optional(t.String({ description: "true: remove a node that is still up (its tasks are rescheduled)" })),
  }),
};
