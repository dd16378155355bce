// GET /api/v1/openapi.json and /api/v1/docs: an OpenAPI 3.1 document built at run time from the app's own
// route table and the same TypeBox (`t`) schemas that validate requests — never written by hand.
import { Elysia } from "elysia";
import pkg from "../../package.json" with { type: "json" };
import { DOCS_HTML } from "./openapi-page.ts";

interface RouteLike {
  method: string;
  path: string;
  hooks?: { body?: Schema; query?: Schema; params?: Schema; response?: unknown; detail?: { tags?: string[]; summary?: string; description?: string; security?: unknown[] } };
}
type Schema = { type?: string; properties?: Record<string, Schema>; required?: string[]; [k: string]: unknown };

/** Routes that answer without a bearer token. */
const PUBLIC = [/^\/api\/v1\/auth\/(status|setup|login)$/, /^\/api\/v1\/openapi\.json$/, /^\/api\/v1\/docs$/, /^\/api\/v1\/github\/webhook/];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/** True for the routes the document covers: the public API under /api/v1. */
export function isApiRoute(r: { method: string; path: string }): boolean {
  return r.path.startsWith("/api/v1/") && METHODS.includes(r.method) && !r.path.includes("*");
}

/** `/tenants/:id` → `/tenants/{id}` */
export function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

/** A plain JSON copy (TypeBox keeps its metadata under symbols, which JSON drops). */
function plain(s: unknown): Schema {
  return JSON.parse(JSON.stringify(s ?? {}));
}

function tagOf(path: string, detail?: { tags?: string[] }): string {
  if (detail?.tags?.length) return detail.tags[0];
  const segs = path.replace(/^\/api\/v1\//, "").split("/").filter((s) => !s.startsWith(":"));
  const seg = segs.length > 1 && segs[0] === "tenants" ? segs[1] : segs[0];
  return seg.split("-").map((w) => w[0].toUpperCase() + w.slice(1)).join(" ");
}

function operationId(method: string, path: string): string {
  const words = path.replace(/^\/api\/v1\//, "").split(/[/-]/).filter(Boolean).map((w) => (w.startsWith(":") ? "by_" + w.slice(1) : w));
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

function responses(r: RouteLike): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const declared = r.hooks?.response;
  const json = (schema: unknown) => ({ "application/json": { schema } });
  if (declared && typeof declared === "object" && !("type" in declared) && !("anyOf" in declared)) {
    for (const [code, s] of Object.entries(declared as Record<string, unknown>)) out[code] = { description: `Status ${code}`, content: json(plain(s)) };
  } else if (declared) {
    out["200"] = { description: "Success", content: json(plain(declared)) };
  } else {
    out["2XX"] = { description: "Success: `{data, meta}` (201 created, 202 accepted, 204 no content)", content: json({ $ref: "#/components/schemas/Success" }) };
  }
  out.default = { description: "Error (see the status code table)", content: json({ $ref: "#/components/schemas/Error" }) };
  return out;
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
    const op: Record<string, unknown> = {
      operationId: operationId(r.method, r.path),
      summary: detail?.summary ?? `${r.method} ${path}`,
      tags: [tag],
      parameters: parameters(r),
      responses: responses(r),
    };
    if (detail?.description) op.description = detail.description;
    if (r.hooks?.body && ["POST", "PUT", "PATCH", "DELETE"].includes(r.method)) {
      op.requestBody = { required: true, content: { "application/json": { schema: plain(r.hooks.body) } } };
    }
    if (detail?.security) op.security = detail.security;
    else if (PUBLIC.some((re) => re.test(r.path))) op.security = [];
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: "3.1.0",
    info: { title: "Staxa API (self-hosted)", version: pkg.version, description: "Multi-tenant application platform API. Authenticate with `Authorization: Bearer sk_live_…` (or `sk_test_…`)." },
    servers: [{ url: "/" }],
    security: [{ bearerAuth: [] }],
    tags: [...tags].sort().map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", description: "API key (sk_live_… / sk_test_…) or a dashboard JWT" } },
      schemas: {
        Success: { type: "object", properties: { data: {}, meta: { type: "object", properties: { request_id: { type: "string" }, total: { type: "integer" }, limit: { type: "integer" }, offset: { type: "integer" } } } } },
        Error: {
          type: "object",
          required: ["error"],
          properties: { error: { type: "object", required: ["code", "message"], properties: { code: { type: "string" }, message: { type: "string" }, details: { type: "object" } } } },
        },
      },
    },
  };
}

/** Registers the two routes on the ROOT app (a functional plugin sees it), so the document covers every route, even later ones. */
export function openapiRoutes() {
  return (app: Elysia) => {
    let cached: { count: number; doc: Record<string, unknown> } | undefined;
    return app
      .get("/api/v1/openapi.json", () => {
        const routes = app.routes as unknown as RouteLike[];
        if (!cached || cached.count !== routes.length) cached = { count: routes.length, doc: buildOpenApi(routes) };
        return cached.doc;
      }, { detail: { tags: ["Meta"], summary: "OpenAPI document" } })
      .get("/api/v1/docs", () => new Response(DOCS_HTML, { headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'" } }),
        { detail: { tags: ["Meta"], summary: "API docs page" } });
  };
}
