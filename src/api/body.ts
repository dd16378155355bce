// Request-body models shared by the route modules: strict objects (a field the schema does not list is a 400
// naming it, where Elysia would silently drop it) and the fields of bodies whose values core validates.
import { t, type TSchema } from "elysia";
import { Invalid } from "../lib/errors.ts";
import { bodyProblem } from "./plugins/json-body.ts";

/** An object body that refuses unknown fields (the envelope reports the first as `Unknown body field "x"`). */
export function strictBody<P extends Record<string, TSchema>>(
  properties: P,
  options: { description?: string; minProperties?: number } = {},
) {
  return t.Object(properties, { ...options, additionalProperties: t.Never() });
}

/**
 * A field whose value core checks (its errors name the field); the schema only says the field exists. `documented`
 * is the type the OpenAPI document shows (openapi.ts puts it in place of the Unknown; `required: true` lists the
 * field in its object's `required`). It sits under its own key
 * because Elysia reads `type`/`properties` even on an Unknown: it would drop nested fields core must see.
 */
export function coreField(description: string, documented?: Record<string, unknown>) {
  return t.Optional(t.Unknown({ description, ...(documented ? { [DOCUMENTED_AS]: documented } : {}) }));
}

/** The key of coreField's documented type. */
export const DOCUMENTED_AS = "x-staxa-documented-as";

const str = { type: "string" };
const int = (minimum: number, maximum: number) => ({ type: "integer", minimum, maximum });
const oneOf = (...values: string[]) => ({ type: "string", enum: values });
const strings = { type: "array", items: str };

/** Bodies checked field by field in core reach it as a plain object; anything else is a 400 here. */
export function bodyObject(body: unknown): Record<string, unknown> {
  const problem = bodyProblem(body);
  if (problem) throw new Invalid("body", problem);
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new Invalid("body", "Request body must be a JSON object");
  return body as Record<string, unknown>;
}

/** An optional body: none (or an empty one) is `{}`. */
export function optionalBodyObject(body: unknown): Record<string, unknown> {
  return body === undefined || body === "" ? {} : bodyObject(body);
}

/** The fields of one service (POST /tenants/{id}/services and each services[] entry of POST /tenants). */
export const serviceFields = {
  name: coreField("Required. Unique service name within the tenant (a DNS label, at most 30 characters)", {
    ...str,
    required: true,
  }),
  source_type: coreField('Required. "github" or "image"', oneOf("github", "image")),
  repo_url: coreField("Git repository URL (source_type github)", str),
  image_url: coreField("Container image reference (source_type image)", str),
  branch: coreField("Git branch. Defaults to main.", str),
  commit_sha: coreField("Commit to build (7 to 64 hex characters)", str),
  port: coreField("Port the service listens on (1-65535)", int(1, 65535)),
  resource_size: coreField("small, medium or large. Defaults to the tenant's size.", oneOf("small", "medium", "large")),
  is_primary: coreField("Whether the tenant's main host routes to this service", { type: "boolean" }),
  is_routable: coreField("Whether the service receives HTTP traffic. Defaults to false.", { type: "boolean" }),
  priority: coreField("Start order weight (0-1000)", int(0, 1000)),
  env: coreField("Environment variables of this service, as key-value pairs", { type: "object", additionalProperties: str }),
  volumes: coreField("Persistent volumes: [{name, mount_path}]", {
    type: "array",
    items: { type: "object", required: ["name", "mount_path"], properties: { name: str, mount_path: str } },
  }),
  depends_on: coreField("Names of services started (and healthy) before this one", strings),
  healthcheck: coreField("{path}: an HTTP path answering 2xx when the service is healthy", {
    type: "object",
    required: ["path"],
    properties: { path: str },
  }),
  build_context: coreField("Directory of the repository to build from", str),
  command: coreField("The container's argv (an array of strings, never a shell string)", strings),
  replicas: coreField(
    "Containers serving the service, load-balanced by the proxy (1-10, at most STAXA_MAX_REPLICAS; default 1). A service with volumes runs one.",
    int(1, 10),
  ),
};

/** PATCH /tenants/{id}/services/{name}: what changes without a rebuild. */
export const servicePatchBody = strictBody(
  { replicas: serviceFields.replicas },
  { description: "Scale the service: new replicas start from the live image, removed ones are drained first" },
);

/** The one-service form of a tenant's fields (POST /tenants with source_type): the service's, at the top level. */
const singleService = (({ name: _n, port: _p, is_primary: _i, is_routable: _r, priority: _o, depends_on: _d, ...rest }) => rest)(
  serviceFields,
);

/** POST /tenants: one of source_type (a single service), services[] or compose/compose_file. */
export const createTenantBody = strictBody({
  name: coreField("Required. Unique tenant name (used as subdomain)", { ...str, required: true }),
  display_name: coreField("Human-readable display name", str),
  ...singleService,
  app_port: coreField("Port the app listens on (single-service mode)", int(1, 65535)),
  egress_mode: coreField('"open" (default) or "restricted" (outbound only through network rules)', oneOf("open", "restricted")),
  services: t.Optional(t.Array(strictBody(serviceFields), { description: "Array of service definitions (multi-service mode)" })),
  compose: coreField("The text of a docker-compose file (multi-service mode)", str),
  compose_file: coreField("Path of a compose file in repo_url, read when the tenant is created", str),
});
