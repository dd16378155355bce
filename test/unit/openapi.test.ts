// The OpenAPI document: valid per an npm validator, and lists exactly the routes the app serves (both derived at run time).
import { describe, expect, test } from "bun:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { testApp } from "../support/ctx.ts";
import { isApiRoute, toOpenApiPath } from "../../src/api/openapi.ts";

describe("GET /api/v1/openapi.json", () => {
  const { app, call } = testApp();

  test("answers without credentials and validates as OpenAPI 3", async () => {
    const res = await app.handle(new Request("http://localhost/api/v1/openapi.json"));
    expect(res.status).toBe(200);
    const doc = await res.json();
    const validator = new Validator();
    const result = await validator.validate(doc);
    if (!result.valid) console.error(JSON.stringify(result.errors, null, 2).slice(0, 4000));
    expect(result.valid).toBe(true);
    expect(doc.components.securitySchemes.bearerAuth).toEqual(expect.objectContaining({ type: "http", scheme: "bearer" }));
  });

  test("covers every /api/v1 route the app serves, and nothing else", async () => {
    const doc = (await call("GET", "/api/v1/openapi.json")).json;
    const documented = Object.entries(doc.paths as Record<string, object>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    const served = [...new Set((app.routes as Array<{ method: string; path: string }>).filter(isApiRoute).map((r) => `${r.method} ${toOpenApiPath(r.path)}`))].sort();
    expect(served.length).toBeGreaterThan(5);
    expect(documented).toEqual(served);
    // every API route that exists under /api/v1 is an "API route" (no silent exclusions besides HEAD/OPTIONS/wildcards)
    const unlisted = (app.routes as Array<{ method: string; path: string }>).filter((r) => r.path.startsWith("/api/v1/") && !r.path.includes("*") && !isApiRoute(r));
    expect(unlisted.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  test("uses the request schemas: webhook creation documents its body, and query params are listed", async () => {
    const doc = (await call("GET", "/api/v1/openapi.json")).json;
    const create = doc.paths["/api/v1/webhooks"].post;
    expect(create.requestBody.content["application/json"].schema.required).toEqual(expect.arrayContaining(["url", "events"]));
    expect(create.tags).toEqual(["Webhooks"]);
    expect(doc.paths["/api/v1/webhooks"].get.parameters.map((p: { name: string }) => p.name)).toEqual(["limit", "offset"]);
    expect(doc.paths["/api/v1/webhooks/{id}"].get.parameters[0]).toMatchObject({ name: "id", in: "path", required: true });
    const ids = Object.values(doc.paths as Record<string, Record<string, { operationId: string }>>).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("the docs page is served by the binary and loads nothing from another origin", async () => {
    const res = await app.handle(new Request("http://localhost/api/v1/docs"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain('fetch("openapi.json")');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });
});
