// PATCH /tenants/{id}/env: single keys set and removed, secrets kept server-side, bad names named, PUT unchanged.
import { describe, expect, test } from "bun:test";
import { fakeApp } from "../../support/fakes.ts";
import { applyEnvPatch, envPatch } from "../../../src/core/tenants/env-patch.ts";

const gitBody = (name: string) => ({ name, source_type: "github", repo_url: "https://example.com/acme/app.git" });

describe("envPatch (parsing)", () => {
  test.each([
    [{ set: { "1BAD": "x" } }, "env.set.1BAD"],
    [{ set: { "A=B": "x" } }, "env.set.A=B"],
    [{ set: { LD_PRELOAD: "/x.so" } }, "env.set.LD_PRELOAD"],
    [{ set: { A: 1 } }, "env.set.A"],
    [{ set: { A: "a\0b" } }, "env.set.A"],
    [{ set: ["A"] }, "env.set"],
    [{ unset: "A" }, "env.unset"],
    [{ unset: [1] }, "env.unset[0]"],
    [{ unset: ["9X"] }, "env.unset.9X"],
    [{ set: { A: "1" }, unset: ["A"] }, "env.unset.A"],
    [{ FOO: "bar" }, "env.FOO"],
    [{}, "env"],
    [{ set: {}, unset: [] }, "env"],
  ])("refuses %j naming %s", (body, field) => {
    let err: any;
    try {
      envPatch(body);
    } catch (e) {
      err = e;
    }
    expect(err?.details?.field).toBe(field);
  });

  test("applies set and unset; an unchanged result says so", () => {
    const cur = { A: "1", SECRET_TOKEN: "s" };
    expect(applyEnvPatch(cur, { set: { B: "2" }, unset: ["A"] })).toEqual({ env: { SECRET_TOKEN: "s", B: "2" }, changed: true });
    expect(applyEnvPatch(cur, { set: { A: "1" }, unset: ["MISSING"] })).toEqual({ env: cur, changed: false });
  });
});

describe("PATCH /tenants/{id}/env", () => {
  test("sets one key without resending a secret; the secret still reaches the app; PUT still replaces all", async () => {
    const a = await fakeApp();
    const id = (
      await a.call("POST", "/api/v1/tenants", { ...gitBody("patchy"), env: { API_TOKEN: "planted-secret-42", GREETING: "hi" } })
    ).json.data.id;
    await a.idle();
    const builds = a.runtime.builds.length;
    const r = await a.call("PATCH", `/api/v1/tenants/${id}/env`, { set: { LOG_LEVEL: "debug" }, unset: ["GREETING"] });
    expect(r.status).toBe(202);
    expect(r.json.data).toEqual([
      { key: "API_TOKEN", value: "****" },
      { key: "LOG_LEVEL", value: "debug" },
    ]);
    expect(r.json.meta.deployment_ids).toHaveLength(1);
    expect(r.text).not.toContain("planted");
    await a.idle();
    expect(a.runtime.builds.length).toBe(builds); // a redeploy of the current image, as PUT does
    const live = [...a.runtime.containers.values()].find(
      (c) => c.info.labels["staxa.deployment"] === r.json.meta.deployment_ids[0],
    );
    expect(live?.spec.env).toMatchObject({ API_TOKEN: "planted-secret-42", LOG_LEVEL: "debug" });
    expect(live?.spec.env).not.toHaveProperty("GREETING");

    const put = await a.call("PUT", `/api/v1/tenants/${id}/env`, { ONLY: "one" });
    expect(put.status).toBe(202);
    await a.idle();
    expect((await a.call("GET", `/api/v1/tenants/${id}/env`)).json.data).toEqual([{ key: "ONLY", value: "one" }]);
  });

  test("a bad name is a 400 naming that key, and nothing changes", async () => {
    const a = await fakeApp();
    const id = (await a.call("POST", "/api/v1/tenants", { ...gitBody("patchbad"), env: { A: "1" } })).json.data.id;
    await a.idle();
    const deps = a.ctx.db.query("SELECT count(*) AS n FROM deployments").get() as { n: number };
    const r = await a.call("PATCH", `/api/v1/tenants/${id}/env`, { set: { GOOD: "x", "1BAD": "y" } });
    expect([r.status, r.json.error.details.field]).toEqual([400, "env.set.1BAD"]);
    expect(r.json.error.message).toContain("1BAD");
    const unknown = await a.call("PATCH", `/api/v1/tenants/${id}/env`, { GOOD: "x" });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.details.field).toMatch(/(^|\.)GOOD$/); // a flat object is not a patch: its first key is named
    expect((await a.call("GET", `/api/v1/tenants/${id}/env`)).json.data).toEqual([{ key: "A", value: "1" }]);
    expect(a.ctx.db.query("SELECT count(*) AS n FROM deployments").get()).toEqual(deps);
  });

  test("a patch that changes nothing redeploys nothing", async () => {
    const a = await fakeApp();
    const id = (await a.call("POST", "/api/v1/tenants", { ...gitBody("patchsame"), env: { A: "1" } })).json.data.id;
    await a.idle();
    const r = await a.call("PATCH", `/api/v1/tenants/${id}/env`, { set: { A: "1" }, unset: ["NOT_THERE"] });
    expect([r.status, r.json.meta.deployment_ids]).toEqual([202, []]);
  });

  test("a foreign tenant is 404; the OpenAPI document describes the extension", async () => {
    const a = await fakeApp();
    expect((await a.call("PATCH", "/api/v1/tenants/ten_doesnotexist/env", { set: { A: "1" } })).status).toBe(404);
    const doc = (await a.call("GET", "/api/v1/openapi.json")).json;
    const op = doc.paths["/api/v1/tenants/{id}/env"].patch;
    expect(op.summary).toBe("Set or remove single environment variables");
    expect(op.description).toContain('{"set": {"LOG_LEVEL": "debug"}, "unset": ["OLD_FLAG"]}');
  });
});

test("a variable given at create time can be removed again (single-service env is stored once, as the tenant's)", async () => {
  const a = await fakeApp();
  const created = (await a.call("POST", "/api/v1/tenants", { ...gitBody("envonce"), env: { GREETING: "hi" } })).json.data;
  expect(created.services[0].env).toEqual([]);
  await a.idle();
  const r = await a.call("PUT", `/api/v1/tenants/${created.id}/env`, { OTHER: "1" });
  await a.idle();
  const live = [...a.runtime.containers.values()].find(
    (c) => c.info.labels["staxa.deployment"] === r.json.meta.deployment_ids[0],
  );
  expect(live?.spec.env).toMatchObject({ OTHER: "1" });
  expect(live?.spec.env).not.toHaveProperty("GREETING");
});
