// What the manager tells every node agent (GET /api/v1/nodes/agent/state) and what an agent finds on its own node.
// Shared by the manager (core/nodes/agent-state.ts builds it) and the agent (src/agent/*.ts reads it).

/** The cluster's desired network state: one answer for every node; each agent picks what concerns it. */
export interface AgentState {
  /** Changes whenever anything below changes (a hash of it). */
  version: string;
  /** Every node's address: tasks reach none of them, and an agent trusts a forwarded connection only from them. */
  nodes: Array<{ id: string; address: string }>;
  /** Caddy's HTTP and HTTPS ports: tasks may still reach these on cluster addresses (tenants' public URLs). */
  proxy_ports: number[];
  /** STAXA_TENANT_SUBNET_POOL: no task reaches another tenant's overlay address through its node. */
  tenant_pool: string;
  /** Tenants with restricted egress (by name, the `staxa.tenant` label): DNS plus these destinations only. */
  egress: Array<{ tenant: string; allow: Array<{ cidr: string; port: number; protocol: "tcp" | "udp" }> }>;
  /** Active inbound rules (tcp): answered on `port` of every node's address, for `source_cidrs` only. */
  inbound: Array<{
    id: string;
    port: number;
    source_cidrs: string[];
    tenant: string;
    service: string;
    target_port: number;
    /** Addresses of the nodes running a task of the target service now. */
    nodes: string[];
  }>;
}

/** A task container of the appliance on this node, with its address on docker_gwbridge (its way out of the node). */
export interface LocalTask {
  id: string;
  tenant: string;
  service: string;
  ip: string;
}
