// GET /api/v1/openapi.json and /api/v1/docs: an OpenAPI 3.1 document built at run time from the app's own
// route table and the same TypeBox (`t`) schemas that validate requests — never written by hand.
import { Elysia } from "elysia";
import pkg from "../../package.json" with { type: "json" };
import { DOCS_HTML } from "./openapi-page.ts";
import * as models from "./models.ts";
import { DOCUMENTED_AS } from "./body.ts";
import { OPS, TAGS, type OpInfo } from "./openapi-ops.ts";

interface RouteLike {
  method: string;
  path: string;
  hooks?: {
    body?: Schema;
    query?: Schema;
    params?: Schema;
    response?: unknown;
    detail?: { tags?: string[]; summary?: string; description?: string; security?: unknown[] };
  };
}
type Schema = { type?: string; properties?: Record<string, Schema>; required?: string[]; [k: string]: unknown };

/** Routes that answer without a bearer token. */
const PUBLIC = [
  /^\/api\/v1\/auth\/(status|setup|login)$/,
  /^\/api\/v1\/openapi\.json$/,
  /^\/api\/v1\/docs$/,
  /^\/api\/v1\/github\/webhook/,
];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/** True for the routes the document covers: the public API under /api/v1. */
export function isApiRoute(r: { method: string; path: string }): boolean {
  return r.path.startsWith("/api/v1/") && METHODS.includes(r.method) && !r.path.includes("*");
}

/** `/tenants/:id` → `/tenants/{id}` */
export function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

/**
 * A plain JSON copy (TypeBox keeps its metadata under symbols, which JSON drops), with each coreField's
 * documented type in place (the field is validated by core, and the document still types it), and closed objects as false.
 */
const REQUIRED = "x-staxa-required";

function plain(s: unknown): Schema {
  return JSON.parse(JSON.stringify(s ?? {}), (_k, v) => {
    if (!v || typeof v !== "object") return v;
    // strictBody's t.Never() is {not: {}}: the same as false, which generators read as a closed object
    const ap = v.additionalProperties;
    if (ap && typeof ap === "object" && Object.keys(ap).length === 1 && JSON.stringify(ap.not) === "{}")
      v.additionalProperties = false;
    if (v.properties && typeof v.properties === "object") {
      // a coreField documented `required: true` is listed in its object's `required` (the check stays core's)
      const named = Object.entries<Record<string, unknown>>(v.properties)
        .filter(([, p]) => p?.[REQUIRED] && delete p[REQUIRED])
        .map(([name]) => name);
      if (named.length) v.required = [...new Set([...(v.required ?? []), ...named])];
    }
    if (!(DOCUMENTED_AS in v)) return v;
    const {
      [DOCUMENTED_AS]: { required, ...documented },
      ...rest
    } = v;
    return { ...rest, ...documented, ...(required === true ? { [REQUIRED]: true } : required ? { required } : {}) };
  });
}

function tagOf(path: string, detail?: { tags?: string[] }): string {
  if (detail?.tags?.length) return detail.tags[0];
  const segs = path
    .replace(/^\/api\/v1\//, "")
    .split("/")
    .filter((s) => !s.startsWith(":"));
  const seg = segs.length > 1 && segs[0] === "tenants" ? segs[1] : segs[0];
  return seg
    .split("-")
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join(" ");
}

function operationId(method: string, path: string): string {
  const words = path
    .replace(/^\/api\/v1\//, "")
    .split(/[/-]/)
    .filter(Boolean)
    .map((w) => (w.startsWith(":") ? "by_" + w.slice(1) : w));
  return [method.toLowerCase(), ...words].join("_").replace(/[^A-Za-z0-9_]/g, "_");
}

function parameters(r: RouteLike): unknown[] {
  const out: unknown[] = [];
  const params = plain(r.hooks?.params);
  for (const [, name] of r.path.matchAll(/:([A-Za-z0-9_]+)/g)) {
    out.push({ name, in: "path", required: true, schema: params.properties?.[name] ?? { type: "string" } });
  }
  const query = plain(r.hooks?.query);
  for (const [name, schema] of Object.entries(query.properties ?? {})) {
    // A parameter with a default is required by the schema only because the default is filled in first.
    out.push({ name, in: "query", required: (query.required ?? []).includes(name) && schema.default === undefined, schema });
  }
  return out;
}

/** components.schemas names of the response models: each model object is written once and referenced. */
const MODEL_NAMES = new Map<unknown, string>(Object.entries(models).map(([name, schema]) => [schema, name]));

const ERRORS: Record<string, [string, string]> = {
  "400": ["BadRequest", "A parameter or body field is invalid (`details.field` names it)"],
  "401": ["Unauthorized", "No valid API key or session"],
  "403": ["Forbidden", "The key lacks the scope this operation needs"],
  "404": ["NotFound", "No such resource for this account"],
  "409": ["Conflict", "The resource's state or a name already taken prevents it"],
  "413": ["PayloadTooLarge", "The body exceeds STAXA_MAX_BODY_BYTES"],
  "422": ["Unprocessable", "Valid input that cannot be carried out (a limit, a state)"],
  "429": ["TooManyRequests", "Rate limited (see Retry-After)"],
};

const json = (schema: unknown) => ({ "application/json": { schema } });

function dataSchema(info: OpInfo): unknown {
  const name = info.model && MODEL_NAMES.get(info.model);
  const item = name ? { $ref: `#/components/schemas/${name}` } : plain(info.model ?? {});
  const meta = { page: "PageMeta", all: "ListMeta" }[info.shape as string] ?? "Meta";
  const data = info.shape === "one" ? item : { type: "array", items: item };
  return { type: "object", required: ["data", "meta"], properties: { data, meta: { $ref: `#/components/schemas/${meta}` } } };
}

function success(info: OpInfo): unknown {
  const description = info.summary;
  switch (info.shape) {
    case "none":
      return { description: `${description}: done, no content` };
    case "text":
      return { description, content: { "text/plain": { schema: { type: "string" } } } };
    case "sse":
      return {
        description: `${description} (Server-Sent Events)`,
        content: { "text/event-stream": { schema: { type: "string" } } },
      };
    case "html":
      return { description, content: { "text/html": { schema: { type: "string" } } } };
    case "document":
      return { description, content: json({ type: "object", additionalProperties: true }) };
    default:
      return { description, content: json(dataSchema(info)) };
  }
}

function responses(r: RouteLike, info: OpInfo, isPublic: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { [String(info.status)]: success(info) };
  const write = r.method !== "GET";
  const codes = [
    "400",
    ...(isPublic ? [] : ["401", "403"]),
    ...(r.path.includes(":") || !isPublic ? ["404"] : []),
    ...(write ? ["409", "413", "422"] : []),
    "429",
  ];
  for (const code of codes) out[code] = { $ref: `#/components/responses/${ERRORS[code][0]}` };
  out.default = {
    description: "Server error (5xx), with the error envelope",
    content: json({ $ref: "#/components/schemas/Error" }),
  };
  return out;
}

/** The operation's entry in OPS; an operation the table does not know is still documented, untyped. */
function infoOf(r: RouteLike): OpInfo {
  return OPS[`${r.method} ${r.path}`] ?? { summary: `${r.method} ${toOpenApiPath(r.path)}`, status: 200, shape: "document" };
}

/** The OpenAPI 3.1 document for the given route table. */
export function buildOpenApi(routes: readonly RouteLike[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const tags = new Set<string>();
  const seen = new Set<string>();
  for (const r of routes) {
    if (!isApiRoute(r)) continue;
    const path = toOpenApiPath(r.path);
    const key = `${r.method} ${path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const detail = r.hooks?.detail;
    const tag = tagOf(r.path, detail);
    tags.add(tag);
    const info = infoOf(r);
    const isPublic = !detail?.security && PUBLIC.some((re) => re.test(r.path));
    const op: Record<string, unknown> = {
      operationId: operationId(r.method, r.path),
      summary: detail?.summary ?? info.summary,
      tags: [tag],
      parameters: parameters(r),
      responses: responses(r, info, isPublic),
    };
    if (detail?.description) op.description = detail.description;
    const body = r.hooks?.body ?? info.body;
    if (body && ["POST", "PUT", "PATCH", "DELETE"].includes(r.method)) {
      op.requestBody = { required: true, content: { "application/json": { schema: plain(body) } } };
    }
    if (detail?.security) op.security = detail.security;
    else if (isPublic) op.security = [];
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Staxa API (self-hosted)",
      version: pkg.version,
      description: "Multi-tenant application platform API. Authenticate with `Authorization: Bearer sk_live_…` (or `sk_test_…`).",
    },
    servers: [{ url: "/" }],
    security: [{ bearerAuth: [] }],
    tags: [...tags].sort().map((name) => ({ name, description: TAGS[name] ?? `Operations on ${name.toLowerCase()}` })),
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", description: "API key (sk_live_… / sk_test_…) or a dashboard JWT" },
      },
      schemas: {
        ...Object.fromEntries([...MODEL_NAMES].map(([schema, name]) => [name, plain(schema)])),
        Meta: {
          type: "object",
          properties: { request_id: { type: "string" } },
          additionalProperties: true,
          description: "request_id; writes that redeploy add deployment_ids (or effect and deployment_id)",
        },
        ListMeta: {
          type: "object",
          required: ["total"],
          properties: { request_id: { type: "string" }, total: { type: "integer" } },
          additionalProperties: true,
        },
        PageMeta: {
          type: "object",
          required: ["total", "limit", "offset"],
          properties: {
            request_id: { type: "string" },
            total: { type: "integer" },
            limit: { type: "integer" },
            offset: { type: "integer" },
          },
        },
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["code", "message", "details"],
              properties: {
                code: { type: "string" },
                message: { type: "string" },
                details: {
                  type: "object",
                  additionalProperties: true,
                  description: "field (the one at fault), request_id, and what else helps",
                },
              },
            },
          },
        },
      },
      responses: Object.fromEntries(
        Object.values(ERRORS).map(([name, description]) => [
          name,
          { description, content: json({ $ref: "#/components/schemas/Error" }) },
        ]),
      ),
    },
  };
}

/** Registers the two routes on the ROOT app (a functional plugin sees it), so the document covers every route, even later ones. */
export function openapiRoutes() {
  return (app: Elysia) => {
    let cached: { count: number; doc: Record<string, unknown> } | undefined;
    return app
      .get(
        "/api/v1/openapi.json",
        () => {
          const routes = app.routes as unknown as RouteLike[];
          if (!cached || cached.count !== routes.length) cached = { count: routes.length, doc: buildOpenApi(routes) };
          return cached.doc;
        },
        { detail: { tags: ["Meta"], summary: "OpenAPI document" } },
      )
      .get(
        "/api/v1/docs",
        () =>
          new Response(DOCS_HTML, {
            headers: {
              "content-type": "text/html; charset=utf-8",
              "content-security-policy":
                "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
            },
          }),
        { detail: { tags: ["Meta"], summary: "API docs page" } },
      );
  };
}
