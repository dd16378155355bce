// The nodes of a cluster engine, as core sees them. Only the Swarm engine has them; on one host there are none.

/** One node of the cluster (the API's node object). */
export interface ClusterNode {
  id: string;
  hostname: string;
  role: "manager" | "worker";
  /** The manager Swarm elected to lead (the one the appliance's engine normally is). */
  leader: boolean;
  /** Where the node is reached: tasks' host-mode ports answer at this address. */
  address: string;
  availability: "active" | "pause" | "drain";
  state: "ready" | "down" | "unknown" | "disconnected";
  engine_version: string;
  resources: { cpus: number; memory_bytes: number };
  /** The appliance's tasks the node runs (desired running). */
  tasks: Array<{ tenant: string; service: string; state: string }>;
}

export interface JoinCommand {
  role: "worker" | "manager";
  /** `docker swarm join --token … <manager>:2377`, as argv (never a shell string). */
  argv: string[];
  manager_address: string;
  /**
   * The built-in cluster registry the nodes pull from: a new server puts `ca_pem` at `ca_path` before joining, so
   * its engine trusts the registry's TLS. Absent without one (or with an external registry: publicly trusted).
   */
  registry?: { address: string; ca_path: string; ca_pem: string };
}

/** What the nodes API asks of a cluster engine. */
export interface Cluster {
  listNodes(): Promise<ClusterNode[]>;
  /** undefined when the node does not exist. */
  findNode(id: string): Promise<ClusterNode | undefined>;
  joinCommand(role: "worker" | "manager"): Promise<JoinCommand>;
  /** drain: Swarm moves the node's tasks elsewhere; active: it takes tasks again. */
  setAvailability(id: string, availability: "active" | "drain"): Promise<void>;
  /** Removes a node from the cluster; a node still up needs `force` (or to leave first). */
  removeNode(id: string, force: boolean): Promise<void>;
}
