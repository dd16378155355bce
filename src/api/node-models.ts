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
});

export const nodeModels = {
  id: t.Object({ nodeId: t.String({ maxLength: 64 }) }),
  join: t.Object({ role: t.Optional(t.String({ description: "worker (default) | manager" })) }),
  remove: t.Object({
    force: t.Optional(t.String({ description: "true: remove a node that is still up (its tasks are rescheduled)" })),
  }),
};
