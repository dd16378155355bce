// Issue 22.6: a TypeScript client generated from the document the appliance serves (openapi-typescript types,
// openapi-fetch calls) compiles under tsc --strict, and creates a tenant against the appliance in-process.
// A line marked @ts-expect-error proves the types are real: a wrong field or a misspelt path fails compilation.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import openapiTS, { astToString } from "openapi-typescript";
import { fakeApp } from "../../support/fakes.ts";

const root = join(import.meta.dir, "../../..");
// Under node_modules, so the generated files resolve openapi-fetch from the project's own dependencies.
const dir = join(root, "node_modules/.cache", `staxa-openapi-client-${process.pid}`);
const env = await fakeApp();
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(env.dataDir, { recursive: true, force: true });
});

const CLIENT = `import createClient from "openapi-fetch";
import type { paths, components } from "./schema.ts";

type Tenant = components["schemas"]["Tenant"];
type CreateTenant = NonNullable<paths["/api/v1/tenants"]["post"]["requestBody"]>["content"]["application/json"];

/** Creates a tenant from an image, then reads it back: every value typed from the document. */
export async function createAndRead(fetch: (r: Request) => Promise<Response>, key: string, name: string) {
  const api = createClient<paths>({ baseUrl: "http://localhost", fetch, headers: { authorization: \`Bearer \${key}\` } });
  const created = await api.POST("/api/v1/tenants", { body: { name, source_type: "image", image_url: "nginx:alpine" } });
  if (!created.data) return { status: created.response.status, error: created.error?.error };
  const tenant: Tenant = created.data.data;
  const status: string = tenant.status;
  const reason: string | null = tenant.status_reason;
  // @ts-expect-error: the document types the tenant's fields; this one does not exist
  void tenant.no_such_field;
  // @ts-expect-error: a strict body: an unknown field is a compile error too
  const unknownField: CreateTenant = { name, not_a_field: 1 };
  // @ts-expect-error: and so is a value of the wrong type
  const wrongType: CreateTenant = { name, app_port: "3000" };
  // @ts-expect-error: and so is leaving out a required field
  const noName: CreateTenant = { source_type: "image", image_url: "nginx:alpine" };
  void unknownField, wrongType, noName;
  const read = await api.GET("/api/v1/tenants/{id}", { params: { path: { id: tenant.id } } });
  const page = await api.GET("/api/v1/tenants", { params: { query: { limit: 5 } } });
  const missing = await api.GET("/api/v1/tenants/{id}", { params: { path: { id: "tnt_missing" } } });
  const code: string | undefined = missing.error?.error.code;
  return {
    status: created.response.status, id: tenant.id, name: tenant.name, tenantStatus: status, reason,
    services: tenant.services.map((s) => ({ name: s.name, primary: s.is_primary })),
    readName: read.data?.data.name, total: page.data?.meta.total, missingStatus: missing.response.status, missingCode: code,
  };
}
`;

test("a client generated from /api/v1/openapi.json compiles (tsc --strict) and creates a tenant", async () => {
  const res = await env.app.handle(new Request("http://localhost/api/v1/openapi.json"));
  const doc = await res.json();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "schema.ts"), astToString(await openapiTS(doc)));
  writeFileSync(join(dir, "client.ts"), CLIENT);

  // A client project of its own: strict, browser-like (no Bun or Node types), nothing but the two files.
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        target: "es2022",
        module: "esnext",
        moduleResolution: "bundler",
        allowImportingTsExtensions: true,
        lib: ["es2022", "dom"],
        types: [],
      },
      files: ["client.ts"],
    }),
  );
  const tsc = Bun.spawn([process.execPath, join(root, "node_modules/typescript/bin/tsc"), "-p", dir], {
    cwd: dir,
    stdout: "pipe",
    stderr: "pipe",
  });
  const out = await new Response(tsc.stdout).text();
  expect(out).toBe("");
  expect(await tsc.exited).toBe(0);

  const { createAndRead } = await import(join(dir, "client.ts"));
  const r = await createAndRead((req: Request) => env.app.handle(req), env.key, "typed-client");
  await env.idle();
  expect(r).toMatchObject({
    status: 202,
    name: "typed-client",
    readName: "typed-client",
    total: 1,
    missingStatus: 404,
    missingCode: "not_found",
  });
  expect(r.id).toMatch(/^\w+/);
  expect(r.services).toEqual([{ name: "web", primary: true }]);
  const after = await env.call("GET", `/api/v1/tenants/${r.id}`);
  expect(after.status).toBe(200);
  expect(after.json.data.name).toBe("typed-client");
}, 120_000);
