// HTTP routes of /api/v1 for: registry credentials (CRUD, verify, repos, tags; repo paths may hold slashes).
import { Elysia, t } from "elysia";
import type { ApiDeps } from "./deps.ts";
import { auth } from "./plugins/auth.ts";
import { all, one } from "./plugins/envelope.ts";
import * as core from "../core/registries/registries.ts";
import { Invalid } from "../lib/errors.ts";
import { intParam } from "./query.ts";
import { strictBody } from "./body.ts";
import { jsonBody } from "./plugins/json-body.ts";

const tags = ["Registry Credentials"];

export const registryModels = {
  create: strictBody({
    name: t.String({ maxLength: 100, examples: ["Docker Hub"] }),
    registry_url: t.String({
      maxLength: 2048,
      description: "https URL of the registry (Docker Hub: https://index.docker.io/v1/)",
    }),
    username: t.String({ maxLength: 255 }),
    password: t.String({ maxLength: 4096, description: "password or access token; stored encrypted, never returned" }),
  }),
  update: strictBody({
    name: t.Optional(t.String({ maxLength: 100 })),
    registry_url: t.Optional(t.String({ maxLength: 2048 })),
    username: t.Optional(t.String({ maxLength: 255 })),
    password: t.Optional(t.String({ maxLength: 4096 })),
  }),
  id: t.Object({ credId: t.String() }),
  tagsPath: t.Object({ credId: t.String(), repo: t.String() }),
  reposQuery: t.Object({
    q: t.Optional(t.String({ maxLength: 255, description: "Search query to filter repos" })),
    limit: intParam("limit", { minimum: 1, maximum: 100, default: 25, description: "Maximum results to return" }),
  }),
};

export function registryRoutes(deps: ApiDeps) {
  const m = registryModels;
  const view = core.registryView;
  const json = jsonBody(deps.config.maxBodyBytes);
  return (
    new Elysia({ name: "routes:registries" })
      .use(auth(deps))
      .get("/registries", ({ principal }) => all(core.listRegistries(deps, principal).map(view)), {
        scope: "registries:read",
        detail: { tags, summary: "List Registries" },
      })
      .post(
        "/registries",
        async ({ principal, body, set }) => {
          const row = await core.createRegistry(deps, principal, body);
          set.status = 201;
          return one(view(row));
        },
        { scope: "registries:write", body: m.create, parse: json, detail: { tags, summary: "Create Registry Credential" } },
      )
      .get("/registries/:credId", ({ principal, params }) => one(view(core.getRegistry(deps, principal, params.credId))), {
        scope: "registries:read",
        params: m.id,
        detail: { tags, summary: "Get Registry Credential" },
      })
      .patch(
        "/registries/:credId",
        async ({ principal, params, body }) => one(view(await core.updateRegistry(deps, principal, params.credId, body))),
        {
          scope: "registries:write",
          params: m.id,
          body: m.update,
          parse: json,
          detail: {
            tags,
            summary: "Update Registry Credential",
            description: "Updating the URL, username or password resets `verified`.",
          },
        },
      )
      .delete(
        "/registries/:credId",
        ({ principal, params, set }) => {
          core.deleteRegistry(deps, principal, params.credId);
          set.status = 204;
        },
        { scope: "registries:write", params: m.id, detail: { tags, summary: "Delete Registry Credential" } },
      )
      .post(
        "/registries/:credId/verify",
        async ({ principal, params }) => one(await core.verifyRegistry(deps, principal, params.credId)),
        { scope: "registries:write", params: m.id, detail: { tags, summary: "Verify Registry Credential" } },
      )
      .get(
        "/registries/:credId/repos",
        async ({ principal, params, query }) =>
          all(await core.listRepos(deps, principal, params.credId, { q: query.q, limit: query.limit })),
        { scope: "registries:read", params: m.id, query: m.reposQuery, detail: { tags, summary: "List Registry Repos" } },
      )
      .get(
        "/registries/:credId/repos/:repo/tags",
        async ({ principal, params }) => all(await core.listTags(deps, principal, params.credId, params.repo)),
        {
          scope: "registries:read",
          params: m.tagsPath,
          detail: {
            tags,
            summary: "List Registry Tags",
            description: "The repo may contain slashes (library/nginx): /registries/{credId}/repos/library/nginx/tags.",
          },
        },
      )
      // Repo names with slashes (team/app, library/nginx): the wildcard holds `<repo>/tags`.
      .get(
        "/registries/:credId/repos/*",
        async ({ principal, params }) => {
          const rest = (params as Record<string, string>)["*"] ?? "";
          if (!rest.endsWith("/tags")) throw new Invalid("repo", "The path must be /registries/{credId}/repos/{repo}/tags");
          let repo: string;
          try {
            repo = decodeURIComponent(rest.slice(0, -"/tags".length));
          } catch {
            throw new Invalid("repo", "The repo path is not validly percent-encoded");
          }
          return all(await core.listTags(deps, principal, params.credId, repo));
        },
        { scope: "registries:read" },
      )
  );
}
