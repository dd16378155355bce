// Issue 19: every integer parameter is parsed once (400 naming it, never a 500), every body is read as JSON
// whatever its Content-Type, unknown body fields are refused by name, and a body over the limit is a 413
// with the error envelope — in-process and through a real Bun server.
import { describe, expect, test } from "bun:test";
import { testApp } from "../../support/ctx.ts";
import { SERVER_BODY_CEILING } from "../../../src/api/plugins/json-body.ts";

const BAD_INTEGERS = [
  "1e309",
  "99999999999999999999",
  "1.5",
  "-1",
  "abc",
  "",
  "0x10",
  " 5",
  "1e2",
  "9223372036854775808",
  "%00",
  "٣",
];
const PAGED = [
  "/api/v1/tenants",
  "/api/v1/webhooks",
  "/api/v1/tenants/ten_nope/deployments",
  "/api/v1/tenants/ten_nope/services/web/deployments",
  "/api/v1/webhooks/whk_nope/deliveries",
];

describe("integer query parameters", () => {
  test("limit and offset that are not integers in range → 400 naming the field, before any lookup", async () => {
    const t = testApp();
    const wrong: string[] = [];
    for (const path of PAGED) {
      for (const field of ["limit", "offset"]) {
        for (const v of [...BAD_INTEGERS, field === "limit" ? "0" : "9007199254740992", field === "limit" ? "101" : "1e400"]) {
          const r = await t.call("GET", `${path}?${field}=${encodeURIComponent(v).replace("%2500", "%00")}`);
          if (r.status !== 400 || r.json?.error?.code !== "validation_error" || r.json.error.details.field !== field)
            wrong.push(`${path}?${field}=${v} → ${r.status} ${r.text.slice(0, 120)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  test("the reference's defaults (20, 0) and bounds: limit 1..100, offset up to 2^53-1 (an empty page)", async () => {
    const t = testApp();
    expect((await t.call("GET", "/api/v1/tenants")).json.meta).toMatchObject({ limit: 20, offset: 0 });
    expect((await t.call("GET", "/api/v1/webhooks?limit=100&offset=3")).json.meta).toMatchObject({ limit: 100, offset: 3 });
    const far = await t.call("GET", "/api/v1/tenants?limit=1&offset=9007199254740991");
    expect([far.status, far.json.data, far.json.meta.offset]).toEqual([200, [], 9007199254740991]);
  });

  test("lines of a service's logs: the same parser (1..10000, default 100)", async () => {
    const t = testApp();
    for (const v of ["1e309", "0", "10001", "2.5"]) {
      const r = await t.call("GET", `/api/v1/tenants/ten_nope/services/web/logs?lines=${v}`);
      expect([v, r.status, r.json.error.details.field]).toEqual([v, 400, "lines"]);
    }
  });

  test("the OpenAPI document shows them as integers with their range and default, not required", async () => {
    const t = testApp();
    const doc = (await t.call("GET", "/api/v1/openapi.json")).json;
    const limit = doc.paths["/api/v1/tenants"].get.parameters.find((p: { name: string }) => p.name === "limit");
    expect(limit).toMatchObject({
      in: "query",
      required: false,
      schema: { type: "integer", minimum: 1, maximum: 100, default: 20 },
    });
    const repos = doc.paths["/api/v1/registries/{credId}/repos"].get.parameters.find((p: { name: string }) => p.name === "limit");
    expect(repos.schema).toMatchObject({ type: "integer", default: 25 });
  });
});

describe("request bodies", () => {
  const raw = (t: ReturnType<typeof testApp>, body: BodyInit, headers: Record<string, string> = {}, key = t.key) =>
    t.app.handle(
      new Request("http://localhost/api/v1/api-keys", {
        method: "POST",
        body,
        headers: { authorization: `Bearer ${key}`, ...headers },
      }),
    );

  test("a JSON body without Content-Type, or sent as text/plain or form-urlencoded (curl -d), is read as JSON", async () => {
    const t = testApp();
    const variants: Array<Record<string, string>> = [
      {},
      { "content-type": "text/plain" },
      { "content-type": "application/x-www-form-urlencoded" },
      { "content-type": "application/json; charset=utf-8" },
    ];
    for (const headers of variants) {
      const r = await raw(t, JSON.stringify({ name: "ci", scopes: ["tenants:read"] }), headers);
      expect([JSON.stringify(headers), r.status]).toEqual([JSON.stringify(headers), 201]);
      expect(((await r.json()) as any).data.scopes).toEqual(["tenants:read"]);
    }
  });

  test("a body that is not JSON, or not an object, is a 400 on the body that says why", async () => {
    const t = testApp();
    const notJson = await raw(t, "name=ci", { "content-type": "application/x-www-form-urlencoded" });
    const e = ((await notJson.json()) as any).error;
    expect([notJson.status, e.details.field]).toEqual([400, "body"]);
    expect(e.message).toContain("not valid JSON (it was sent as application/x-www-form-urlencoded)");
    for (const body of ["[1]", '"x"', "7", "null"]) {
      const r = await raw(t, body, { "content-type": "application/json" });
      expect([body, r.status, ((await r.json()) as any).error.message]).toEqual([
        body,
        400,
        "Request body must be a JSON object",
      ]);
    }
  });

  test("a wrong key with a body that is not JSON is still a 401: credentials are checked first", async () => {
    const t = testApp();
    expect((await raw(t, "{oops", { "content-type": "application/json" }, "sk_live_nope")).status).toBe(401);
    expect((await raw(t, "[]", {}, "sk_live_nope")).status).toBe(401);
  });

  test("a body over the limit (declared or chunked) → 413 with the error envelope, in-process", async () => {
    const t = testApp({}, { STAXA_MAX_BODY_BYTES: "2048" });
    const big = JSON.stringify({ name: "x".repeat(5000) });
    const declared = await raw(t, big, { "content-type": "application/json", "content-length": String(big.length) });
    const chunks = new ReadableStream({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode(big.slice(i * 500, i * 500 + 500)));
        c.close();
      },
    });
    const chunked = await raw(t, chunks, { "content-type": "application/json" });
    for (const r of [declared, chunked]) {
      expect(r.status).toBe(413);
      expect(((await r.json()) as any).error).toMatchObject({ code: "payload_too_large", details: { limit: 2048 } });
    }
  });

  test("a body over the limit → 413 with the error envelope from a real Bun server, not Bun's empty 413", async () => {
    const t = testApp({}, { STAXA_MAX_BODY_BYTES: "1024" });
    const server = t.app.listen({ port: 0, hostname: "127.0.0.1", maxRequestBodySize: SERVER_BODY_CEILING, development: false });
    try {
      const url = `http://127.0.0.1:${t.app.server!.port}/api/v1/api-keys`;
      const big = JSON.stringify({ name: "x".repeat(3_000_000) });
      const headers = { authorization: `Bearer ${t.key}`, "content-type": "application/json" };
      const stream = new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode(big));
          c.close();
        },
      });
      for (const init of [{ body: big }, { body: stream, duplex: "half" }]) {
        const r = await fetch(url, { method: "POST", headers, ...init } as RequestInit);
        const text = await r.text();
        expect([r.status, text.slice(0, 60)]).toEqual([413, '{"error":{"code":"payload_too_large","message":"Request body']);
      }
    } finally {
      server.stop(true);
    }
  });
});

/** The body fields the reference documents, per endpoint: every one must be accepted. */
const REFERENCE_FIELDS: Record<string, string[]> = {
  "post /api/v1/register": ["email", "name"],
  "patch /api/v1/account": ["name"],
  "post /api/v1/api-keys": ["name", "scopes", "mode", "expires_at"],
  "post /api/v1/tenants": ["name", "display_name", "source_type", "repo_url", "branch", "services", "env"],
  "patch /api/v1/tenants/{id}": ["display_name", "branch", "resource_size", "app_port", "egress_mode"],
  "post /api/v1/tenants/{id}/services": [
    "name",
    "source_type",
    "repo_url",
    "branch",
    "image_url",
    "port",
    "is_routable",
    "resource_size",
  ],
  "post /api/v1/tenants/{id}/deployments": ["branch", "commit_sha"],
  "post /api/v1/tenants/{id}/domains": ["domain", "is_primary", "service_id"],
  "post /api/v1/github/installation": ["installation_id"],
};

describe("unknown body fields", () => {
  test("every reference field of every endpoint is in its body schema", async () => {
    const t = testApp();
    const doc = (await t.call("GET", "/api/v1/openapi.json")).json;
    for (const [op, fields] of Object.entries(REFERENCE_FIELDS)) {
      const [method, path] = op.split(" ");
      const schema = doc.paths[path]?.[method]?.requestBody?.content["application/json"].schema;
      const props = Object.keys(schema?.anyOf?.[0]?.properties ?? schema?.properties ?? {});
      expect([op, fields.filter((f) => !props.includes(f))]).toEqual([op, []]);
    }
  });

  test("a field no schema lists → 400 naming it, on every route with a body schema (before any lookup)", async () => {
    const t = testApp();
    const doc = (await t.call("GET", "/api/v1/openapi.json")).json;
    const wrong: string[] = [];
    let checked = 0;
    for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (!op.requestBody || path === "/api/v1/register") continue; // register: JWT only, 401 first
        if (op.requestBody.content["application/json"].schema.patternProperties) continue; // a record (PUT env): every name is a variable
        checked++;
        const r = await t.call(method.toUpperCase(), path.replace(/\{[^}]+\}/g, "x_nope"), { zz_not_a_field: 1 });
        if (r.status !== 400 || r.json?.error?.details?.field !== "zz_not_a_field")
          wrong.push(`${method} ${path} → ${r.status} ${r.text.slice(0, 150)}`);
      }
    }
    expect(checked).toBeGreaterThan(12);
    expect(wrong).toEqual([]);
  });

  test("inside services[], an unknown field is named with its index; a misspelt top-level field too", async () => {
    const t = testApp();
    const svc = { name: "web", source_type: "image", image_url: "example/app:1", is_routable: true };
    const nested = await t.call("POST", "/api/v1/tenants", {
      name: "acme",
      services: [svc, { ...svc, name: "api", is_routeable: true }],
    });
    expect([nested.status, nested.json.error.details.field, nested.json.error.message]).toEqual([
      400,
      "services[1].is_routeable",
      'Unknown body field "services[1].is_routeable"',
    ]);
    const top = await t.call("POST", "/api/v1/tenants", {
      name: "acme",
      source_type: "image",
      image_url: "example/app:1",
      port: 8080,
    });
    expect([top.status, top.json.error.details.field]).toEqual([400, "port"]);
    expect((await t.call("GET", "/api/v1/tenants")).json.meta.total).toBe(0);
  });
});

test("every route that reads a body reads it through the one JSON parser (none falls back to Content-Type parsing)", () => {
  const { app } = testApp();
  const history = (app as any).router.history as Array<{
    method: string;
    path: string;
    hooks: { parse?: Array<{ fn: unknown }> };
    compile: () => unknown;
  }>;
  const fallback = history.filter(
    (r) =>
      r.path.startsWith("/api/v1/") &&
      r.method !== "GET" &&
      String(r.compile()).includes("c.request.json()") &&
      !r.hooks.parse?.some((h) => typeof h.fn === "function"),
  );
  expect(fallback.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  expect(history.filter((r) => r.hooks.parse?.length).length).toBeGreaterThan(15);
});

test("an unknown field inside a volume or a healthcheck is named too", async () => {
  const t = testApp();
  const base = { name: "acme", source_type: "image", image_url: "example/app:1" };
  const vol = await t.call("POST", "/api/v1/tenants", {
    ...base,
    volumes: [{ name: "data", mount_path: "/data", readonly: true }],
  });
  expect([vol.status, vol.json.error.details.field]).toEqual([400, "volumes[0].readonly"]);
  const hc = await t.call("POST", "/api/v1/tenants", { ...base, healthcheck: { path: "/health", interval: 5 } });
  expect([hc.status, hc.json.error.details.field]).toEqual([400, "healthcheck.interval"]);
});

test("a body nested 100,000 levels deep is refused at once, before validation renders it (found by the fuzz test)", async () => {
  const t = testApp();
  for (const body of ['{"a":'.repeat(100_000) + "1" + "}".repeat(100_000), "[".repeat(100_000) + "]".repeat(100_000)]) {
    const r = await t.call("POST", "/api/v1/register", body, { authorization: "Bearer eyJ.x.y" });
    expect([r.status, r.json.error.message]).toEqual([400, "Request body nests deeper than 32 levels"]);
  }
  const strings = await t.call("POST", "/api/v1/api-keys", { name: "[[[[".repeat(20) });
  expect(strings.status).toBe(201); // brackets inside strings are text
});
