// The response models of the OpenAPI document (src/api/models.ts, wired per operation in openapi-ops.ts) hold for
// the appliance's real answers: every read, and the writes the matrix has valid bodies for, over the fakes with one
// of every object. A view that gains, loses or retypes a field fails here until the document says so.
import { expect, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import { BODIES, buildObjects, fillPath, matrixApp } from "../../support/matrix.ts";
import { OPS } from "../../../src/api/openapi-ops.ts";

/**
 * Outside systems the fakes do not stand in for (GitHub, a registry on a closed port, a swarm cluster: the nodes
 * answer 409 not_clustered on the fakes' single engine; test/e2e/swarm-cluster.test.ts checks their model): their 4xx/5xx is expected.
 */
const OUTSIDE = /\/github\/(installation|repos)|\/registries\/:credId\/(repos|verify)|\/nodes/;

test("every JSON answer matches the status and the data model the document gives its operation", async () => {
  const m = matrixApp();
  const objects = await buildObjects(m, m.key, m.provider.id, "models", "s3cret-models");
  await m.idle();
  const ops = Object.entries(OPS)
    .map(([k, info]) => ({ method: k.split(" ")[0], path: k.split(" ")[1], info }))
    .filter(
      ({ method, path, info }) =>
        (method === "GET" || BODIES[`${method} ${path}`] !== undefined) &&
        ["one", "all", "page"].includes(info.shape) &&
        !OUTSIDE.test(path),
    );
  expect(ops.length).toBeGreaterThan(30);
  const template = (await m.send(m.key, "GET", "/api/v1/templates")).json.data[0].id;
  const wrong: string[] = [];
  for (const { method, path, info } of ops) {
    const { url, missing } = fillPath(path, objects, path.startsWith("/api/v1/templates/") ? { "templates/:id": template } : {});
    expect([path, missing]).toEqual([path, []]);
    const r = await m.send(m.key, method, url, BODIES[`${method} ${path}`]);
    if (r.status !== info.status) {
      wrong.push(`${method} ${path}: status ${r.status}, documented ${info.status}: ${r.text.slice(0, 200)}`);
      continue;
    }
    if (!info.model) continue;
    const items = info.shape === "one" ? [r.json.data] : r.json.data;
    if (!Array.isArray(items)) {
      wrong.push(`${method} ${path}: data is not a list: ${r.text.slice(0, 120)}`);
      continue;
    }
    for (const item of items) {
      const e = Value.Errors(info.model, item).First();
      if (e) wrong.push(`${method} ${path}: ${e.path || "/"} ${e.message} (got ${JSON.stringify(e.value)?.slice(0, 80)})`);
    }
    if (info.shape === "page")
      expect(r.json.meta).toEqual(
        expect.objectContaining({ total: expect.any(Number), limit: expect.any(Number), offset: expect.any(Number) }),
      );
    if (info.shape === "all") expect(r.json.meta).toEqual(expect.objectContaining({ total: expect.any(Number) }));
  }
  expect(wrong).toEqual([]);
}, 60_000);
