// OpenAPI model of the node agents' desired state (an extension; swarm engine only). Mirrors src/agent/state.ts.
import { t } from "elysia";
import type { AgentState as State } from "../agent/state.ts";

const Allow = t.Object({ cidr: t.String(), port: t.Integer(), protocol: t.String({ description: "tcp | udp" }) });

export const AgentState = t.Object({
  version: t.String({ description: "Changes whenever anything else in the answer changes" }),
  nodes: t.Array(t.Object({ id: t.String(), address: t.String() }), {
    description: "Every node: tasks reach none of these addresses; a relayed inbound connection is trusted from these only",
  }),
  proxy_ports: t.Array(t.Integer(), {
    description: "Caddy's HTTP and HTTPS ports: the one way tasks still reach cluster addresses (tenants' public URLs)",
  }),
  tenant_pool: t.String({ description: "STAXA_TENANT_SUBNET_POOL: no task reaches a tenant overlay through its node" }),
  egress: t.Array(t.Object({ tenant: t.String(), allow: t.Array(Allow) }), {
    description: "Tenants with restricted egress, by name (the staxa.tenant label): DNS plus these destinations",
  }),
  inbound: t.Array(
    t.Object({
      id: t.String(),
      port: t.Integer({ description: "The allocated port every node answers on" }),
      source_cidrs: t.Array(t.String()),
      tenant: t.String(),
      service: t.String(),
      target_port: t.Integer(),
      nodes: t.Array(t.String(), { description: "Addresses of the nodes running a task of the service" }),
    }),
  ),
});

// The model and the agent's type never drift apart (a compile-time check, both ways).
type Model = typeof AgentState.static;
export type SameShape = [State extends Model ? true : never, Model extends Omit<State, never> ? true : never];
