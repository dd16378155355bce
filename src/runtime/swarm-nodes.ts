// The cluster's nodes over dockerode (the Cluster the nodes API uses): list, join command, drain/activate, remove.
import type Docker from "dockerode";
import { Conflict, Invalid } from "../lib/errors.ts";
import type { Cluster, ClusterNode } from "./cluster.ts";
import { call, dockerMessage, dockerStatus, isNotFound, upstream } from "./docker-errors.ts";
import { nodeAddress, nodeRow, type NodeView, type TaskView } from "./swarm-spec.ts";
import type { ClusterRegistry } from "../registry-server/material.ts";

/** Node ids are Swarm's (25 lowercase alphanumerics); anything else never reaches the engine's URL path. */
const NODE_ID = /^[a-z0-9]{1,64}$/;

function checkId(id: string): void {
  if (!NODE_ID.test(id)) throw new Invalid("id", "a node id is Swarm's node id (lowercase letters and digits)");
}

/** Tasks of the appliance's services (staxa.managed), each with its service's labels. */
async function staxaTasks(docker: Docker): Promise<Array<TaskView & { labels: Record<string, string> }>> {
  const [services, tasks] = await Promise.all([
    call("list services", () => docker.listServices({ filters: { label: ["staxa.managed=1"] } })),
    call("list tasks", () => docker.listTasks({ filters: { "desired-state": ["running"] } })),
  ]);
  const labelsOf = new Map(services.map((s) => [s.ID, s.Spec?.Labels ?? {}]));
  return (tasks as TaskView[])
    .filter((t) => labelsOf.has(t.ServiceID))
    .map((t) => ({ ...t, labels: labelsOf.get(t.ServiceID)! }));
}

/** `registry`: the cluster registry whose CA the join answer hands to a new server (the built-in one's). */
export function swarmCluster(docker: Docker, registry: () => ClusterRegistry | undefined = () => undefined): Cluster {
  const list = async (): Promise<ClusterNode[]> => {
    const [nodes, tasks] = await Promise.all([call("list nodes", () => docker.listNodes()), staxaTasks(docker)]);
    return (nodes as NodeView[]).map((n) => nodeRow(n, tasks)).sort((a, b) => a.hostname.localeCompare(b.hostname));
  };
  return {
    listNodes: list,

    async findNode(id) {
      checkId(id);
      return (await list()).find((n) => n.id === id);
    },

    async joinCommand(role) {
      const swarm = (await call("inspect swarm", () => docker.swarmInspect())) as {
        JoinTokens?: { Worker?: string; Manager?: string };
      };
      const token = role === "manager" ? swarm.JoinTokens?.Manager : swarm.JoinTokens?.Worker;
      const info = (await call("engine info", () => docker.info())) as { Swarm?: { NodeID?: string } };
      const self = info.Swarm?.NodeID ? await docker.getNode(info.Swarm.NodeID).inspect() : undefined;
      const addr = self ? nodeAddress(self as NodeView) : "";
      if (!token || !addr) throw new Conflict("this engine is not a swarm manager", {}, "not_a_manager");
      const reg = (() => {
        try {
          return registry();
        } catch {
          return undefined; // a registry not set up yet: the join works, its pulls will not until it is
        }
      })();
      return {
        role,
        argv: ["docker", "swarm", "join", "--token", token, `${addr}:2377`],
        manager_address: addr,
        ...(reg?.caPem && reg.caPath ? { registry: { address: reg.address, ca_path: reg.caPath, ca_pem: reg.caPem } } : {}),
      };
    },

    async setAvailability(id, availability) {
      checkId(id);
      const node = docker.getNode(id);
      // A node update carries the version it was read at: a concurrent change makes Swarm refuse it (409) once.
      for (let attempt = 0; ; attempt++) {
        let current: { Version?: { Index?: number }; Spec?: Record<string, unknown> };
        try {
          current = await node.inspect();
        } catch (err) {
          throw upstream(`inspect node ${id}`, err);
        }
        try {
          await node.update({ version: current.Version?.Index, ...current.Spec, Availability: availability });
          return;
        } catch (err) {
          if (attempt === 0 && /update out of sequence/i.test(dockerMessage(err))) continue;
          throw upstream(`update node ${id}`, err);
        }
      }
    },

    async removeNode(id, force) {
      checkId(id);
      try {
        await docker.getNode(id).remove({ force });
      } catch (err) {
        if (isNotFound(err)) return;
        // 400/412: a node still up or a manager; Swarm says which in its message.
        if (dockerStatus(err) === 400 || dockerStatus(err) === 412) throw new Conflict(dockerMessage(err), { id }, "node_in_use");
        throw upstream(`remove node ${id}`, err);
      }
    },
  };
}
