// HTTP route of /api/v1 for the swarm's node agents: GET /nodes/agent/state, the desired network state they poll.
// Authenticated by the agents' own token (not an API key: a node holds no account), counted against failed logins.
import { Elysia } from "elysia";
import type { ApiDeps } from "./deps.ts";
import { one } from "./plugins/envelope.ts";
import { bearerToken, underFailureLimit } from "./plugins/auth.ts";
import { agentStateCache, checkAgentToken } from "../core/nodes/agent-state.ts";

export function agentRoutes(deps: ApiDeps) {
  const state = agentStateCache(deps);
  return new Elysia({ name: "routes:agent" }).get(
    "/nodes/agent/state",
    async ({ request, store }) => {
      await underFailureLimit(deps, store, request, async () =>
        checkAgentToken(deps.box, bearerToken(request.headers.get("authorization"))),
      );
      return one(await state());
    },
    {
      detail: {
        tags: ["Nodes"],
        description:
          "Bearer: the agent token from POST /nodes/join-token (agent_argv), not an API key. 409 not_clustered on one host.",
      },
    },
  );
}
