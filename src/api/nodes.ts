// HTTP routes of /api/v1 for: the cluster's nodes (swarm engine; an extension). On one host they answer 409 not_clustered.
import { Elysia } from "elysia";
import type { ApiDeps } from "./deps.ts";
import { auth } from "./plugins/auth.ts";
import { all, one } from "./plugins/envelope.ts";
import * as core from "../core/nodes/nodes.ts";
import { Invalid } from "../lib/errors.ts";
import { nodeModels as m } from "./node-models.ts";

const tags = ["Nodes"];

function forceOf(raw: string | undefined): boolean {
  if (raw === undefined || raw === "false") return false;
  if (raw === "true") return true;
  throw new Invalid("force", "force must be true or false");
}

export function nodeRoutes(deps: ApiDeps) {
  return new Elysia({ name: "routes:nodes" })
    .use(auth(deps))
    .get("/nodes", async () => all(await core.listNodes(deps)), { scope: "nodes:read", detail: { tags } })
    .get("/nodes/:nodeId", async ({ params }) => one(await core.getNode(deps, params.nodeId)), {
      scope: "nodes:read",
      params: m.id,
      detail: { tags },
    })
    .post("/nodes/join-token", async ({ query }) => one(await core.joinCommand(deps, query.role)), {
      scope: "nodes:write",
      query: m.join,
      detail: { tags },
    })
    .post("/nodes/:nodeId/drain", async ({ params }) => one(await core.setAvailability(deps, params.nodeId, "drain")), {
      scope: "nodes:write",
      params: m.id,
      detail: { tags },
    })
    .post("/nodes/:nodeId/activate", async ({ params }) => one(await core.setAvailability(deps, params.nodeId, "active")), {
      scope: "nodes:write",
      params: m.id,
      detail: { tags },
    })
    .delete(
      "/nodes/:nodeId",
      async ({ params, query, set }) => {
        await core.removeNode(deps, params.nodeId, forceOf(query.force));
        set.status = 204;
      },
      { scope: "nodes:write", params: m.id, query: m.remove, detail: { tags } },
    );
}
