// What the agent reads from its own node's engine: the node (id, address) and the appliance's task containers with
// their docker_gwbridge addresses (where their traffic leaves the node from, and where a relay reaches them).
import Docker from "dockerode";
import type { LocalTask } from "./state.ts";
import { GWBRIDGE } from "./plan.ts";

export interface LocalEngine {
  /** This node's Swarm id and address (what it advertises: the address its tasks' ports answer on). */
  self(): Promise<{ id: string; address: string }>;
  /** The appliance's running task containers on this node that have a docker_gwbridge address. */
  tasks(): Promise<LocalTask[]>;
  /** Calls `onChange` whenever a container starts or dies here; returns the stop function. */
  watch(onChange: () => void): () => void;
}

export function localEngine(socketPath: string): LocalEngine {
  const docker = new Docker({ socketPath });
  return {
    async self() {
      const info = (await docker.info()) as { Swarm?: { NodeID?: string; NodeAddr?: string } };
      if (!info.Swarm?.NodeID || !info.Swarm.NodeAddr) throw new Error("this engine is not part of a swarm");
      return { id: info.Swarm.NodeID, address: info.Swarm.NodeAddr };
    },
    async tasks() {
      const [containers, bridge] = await Promise.all([
        docker.listContainers({ filters: { label: ["staxa.managed=1"], status: ["running"] } }),
        docker.getNetwork(GWBRIDGE).inspect() as Promise<{ Containers?: Record<string, { IPv4Address?: string }> }>,
      ]);
      const ipOf = new Map(Object.entries(bridge.Containers ?? {}).map(([id, c]) => [id, c.IPv4Address?.split("/")[0]]));
      return containers.flatMap((c) => {
        const ip = ipOf.get(c.Id);
        const tenant = c.Labels["staxa.tenant"];
        if (!ip || !tenant) return [];
        return [{ id: c.Id, tenant, service: c.Labels["staxa.service"] ?? "", ip }];
      });
    },
    watch(onChange) {
      let stopped = false;
      let stream: NodeJS.ReadableStream | undefined;
      const follow = async () => {
        while (!stopped) {
          try {
            stream = (await docker.getEvents({
              filters: { type: ["container"], event: ["start", "die"] },
            })) as NodeJS.ReadableStream;
            await new Promise<void>((resolve) => {
              stream!.on("data", () => onChange());
              stream!.on("end", resolve);
              stream!.on("error", () => resolve());
            });
          } catch {
            // the engine restarting: the poll loop carries on meanwhile
          }
          if (!stopped) await Bun.sleep(1000);
        }
      };
      void follow();
      return () => {
        stopped = true;
        (stream as unknown as { destroy?: () => void })?.destroy?.();
      };
    },
  };
}
