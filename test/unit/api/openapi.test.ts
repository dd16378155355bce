// The OpenAPI document: valid per an npm validator, and lists exactly the routes the app serves (both derived at run time).
import { describe, expect, test } from "bun:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { testApp } from "../../support/ctx.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isApiRoute, toOpenApiPath } from "../../../src/api/openapi.ts";
import { OPS } from "../../../src/api/openapi-ops.ts";

/** `redocly lint` (the devDependency, offline: no telemetry, no update check) over a document; its JSON report. */
async function redoclyLint(doc: unknown): Promise<{
  totals: { errors: number; warnings: number };
  problems: Array<{ ruleId: string; severity: string; message: string }>;
}> {
  const dir = mkdtempSync(join(tmpdir(), "staxa-openapi-"));
  try {
    writeFileSync(join(dir, "openapi.json"), JSON.stringify(doc));
    const cli = join(import.meta.dir, "../../../node_modules/@redocly/cli/bin/cli.js");
    const proc = Bun.spawn([process.execPath, cli, "lint", "openapi.json", "--format=json"], {
      cwd: dir,
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", CI: "true" },
    });
    const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    await proc.exited;
    const start = out.indexOf("{");
    if (start < 0) throw new Error(`redocly printed no report: ${err.slice(0, 2000)}`);
    return JSON.parse(out.slice(start));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

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
    const documented = Object.entries(doc.paths as Record<string, object>)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const served = [
      ...new Set(
        (app.routes as Array<{ method: string; path: string }>)
          .filter(isApiRoute)
          .map((r) => `${r.method} ${toOpenApiPath(r.path)}`),
      ),
    ].sort();
    expect(served.length).toBeGreaterThan(5);
    expect(documented).toEqual(served);
    // every API route that exists under /api/v1 is an "API route" (no silent exclusions besides HEAD/OPTIONS/wildcards)
    const unlisted = (app.routes as Array<{ method: string; path: string }>).filter(
      (r) => r.path.startsWith("/api/v1/") && !r.path.includes("*") && !isApiRoute(r),
    );
    expect(unlisted.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  test("uses the request schemas: webhook creation documents its body, and query params are listed", async () => {
    const doc = (await call("GET", "/api/v1/openapi.json")).json;
    const create = doc.paths["/api/v1/webhooks"].post;
    expect(create.requestBody.content["application/json"].schema.required).toEqual(expect.arrayContaining(["url", "events"]));
    expect(create.tags).toEqual(["Webhooks"]);
    expect(doc.paths["/api/v1/webhooks"].get.parameters.map((p: { name: string }) => p.name)).toEqual(["limit", "offset"]);
    expect(doc.paths["/api/v1/webhooks/{id}"].get.parameters[0]).toMatchObject({ name: "id", in: "path", required: true });
    const ids = Object.values(doc.paths as Record<string, Record<string, { operationId: string }>>).flatMap((ops) =>
      Object.values(ops).map((o) => o.operationId),
    );
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

  test("Redocly lint: 0 errors, and every operation documents its 4xx answers", async () => {
    const doc = (await call("GET", "/api/v1/openapi.json")).json;
    const report = await redoclyLint(doc);
    const summary = report.problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message}`);
    console.log(
      `redocly lint: ${report.totals.errors} errors, ${report.totals.warnings} warnings`,
      [...new Set(summary)].slice(0, 20),
    );
    expect(report.problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(report.problems.filter((p) => p.ruleId === "operation-4xx-response")).toEqual([]);
  }, 60_000);

  test("every operation has a summary in words, a typed success answer and the error envelope on its 4xx", async () => {
    const doc = (await call("GET", "/api/v1/openapi.json")).json;
    const served = [
      ...new Set((app.routes as Array<{ method: string; path: string }>).filter(isApiRoute).map((r) => `${r.method} ${r.path}`)),
    ];
    expect(served.filter((k) => !OPS[k])).toEqual([]); // a new route needs its summary and answer in openapi-ops.ts
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(op.summary, where).not.toContain("/");
        const codes = Object.keys(op.responses);
        expect(codes.filter((c) => /^4\d\d$/.test(c)).length, where).toBeGreaterThan(0);
        for (const c of codes.filter((c) => /^4/.test(c)))
          expect(op.responses[c].$ref, where).toMatch(/^#\/components\/responses\//);
        const ok = op.responses[codes.find((c) => /^2/.test(c))!];
        const schema = ok.content?.["application/json"]?.schema;
        if (schema?.properties?.data) expect(JSON.stringify(schema.properties.data), where).toContain("#/components/schemas/");
      }
    }
    expect(doc.components.responses.NotFound.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
    const tenant = doc.paths["/api/v1/tenants/{id}"].get.responses["200"].content["application/json"].schema;
    expect(tenant.properties.data).toEqual({ $ref: "#/components/schemas/Tenant" });
    expect(doc.components.schemas.Tenant.required).toEqual(
      expect.arrayContaining(["id", "name", "status", "status_reason", "url", "services", "domains"]),
    );
    // every write operation that takes a body documents it (bodies core checks field by field come from openapi-ops.ts)
    const create = doc.paths["/api/v1/tenants"].post.requestBody.content["application/json"].schema;
    expect(create).toMatchObject({
      required: ["name"],
      additionalProperties: false,
      properties: { name: { type: "string" }, app_port: { type: "integer" } },
    });
    expect(JSON.stringify(doc)).not.toContain("x-staxa-"); // the documented types are in place, no marker left
    // no request body field is left untyped (a generated client would see `unknown`)
    const untyped: string[] = [];
    const walk = (s: any, where: string) => {
      for (const [k, v] of Object.entries<any>(s?.properties ?? {})) {
        if (!["type", "anyOf", "oneOf", "$ref"].some((x) => x in v)) untyped.push(`${where}.${k}`);
        walk(v, `${where}.${k}`);
      }
      if (s?.items) walk(s.items, `${where}[]`);
      for (const x of s?.anyOf ?? []) walk(x, where);
    };
    for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries(ops))
        if (op.requestBody) walk(op.requestBody.content["application/json"].schema, `${method.toUpperCase()} ${path}`);
    }
    expect(untyped).toEqual([]);
    expect(doc.paths["/api/v1/tenants/{id}/env"].put.requestBody).toBeDefined();
    expect(
      doc.paths["/api/v1/tenants/{id}/network-rules"].post.requestBody.content["application/json"].schema.properties.direction,
    ).toBeDefined();
  });
});
