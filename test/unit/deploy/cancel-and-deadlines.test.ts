// Nothing hangs (issue 20), in-process over the fakes: a cancelled or timed-out deployment ends failed saying why
// while the old container keeps serving; the cancel route is an extension in the OpenAPI document.
import { describe, expect, test } from "bun:test";
import { fakeApp } from "../../support/fakes.ts";
import { withinDeadline } from "../../../src/core/deploy/stage-deadline.ts";

const gitBody = (name: string) => ({ name, source_type: "github", repo_url: "https://example.com/acme/app.git", app_port: 3000 });

async function readyTenant(name: string) {
  const a = await fakeApp();
  const r = await a.call("POST", "/api/v1/tenants", gitBody(name));
  await a.idle();
  const old = a.runtime.running()[0]!;
  return { a, id: r.json.data.id as string, old };
}

const dep = (a: Awaited<ReturnType<typeof fakeApp>>, id: string, depId: string) =>
  a.call("GET", `/api/v1/tenants/${id}/deployments/${depId}`).then((r) => r.json.data);

describe("cancel", () => {
  test("a cancel during a build ends it failed 'cancelled by <key>' at once; the old container keeps serving", async () => {
    const { a, id, old } = await readyTenant("cancel-build");
    a.runtime.buildDelayMs = 60_000;
    const d = (await a.call("POST", `/api/v1/tenants/${id}/deployments`, {})).json.data;
    while ((await dep(a, id, d.id)).status !== "building") await Bun.sleep(5);
    const c = await a.call("POST", `/api/v1/tenants/${id}/deployments/${d.id}/cancel`, {});
    expect(c.status).toBe(202);
    const t0 = Date.now();
    await a.idle();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await dep(a, id, d.id)).toMatchObject({ status: "failed", reason: expect.stringMatching(/^cancelled by key_/) });
    expect(a.runtime.running().map((c) => c.id)).toEqual([old.id]);
    expect((await a.call("GET", `/api/v1/tenants/${id}`)).json.data.status).toBe("ready");
  });

  test("a queued deployment cancelled never starts; the one before it is untouched", async () => {
    const { a, id } = await readyTenant("cancel-queued");
    a.runtime.buildDelayMs = 100;
    const first = (await a.call("POST", `/api/v1/tenants/${id}/deployments`, {})).json.data;
    const second = (await a.call("POST", `/api/v1/tenants/${id}/deployments`, {})).json.data;
    const c = await a.call("POST", `/api/v1/tenants/${id}/deployments/${second.id}/cancel`, {});
    expect(c.status).toBe(202);
    expect(c.json.data).toMatchObject({ status: "failed", reason: expect.stringMatching(/^cancelled by key_/) });
    await a.idle();
    expect((await dep(a, id, first.id)).status).toBe("succeeded");
    expect((await dep(a, id, second.id)).started_at).toBeNull();
  });

  test("a finished deployment cannot be cancelled: 409 deployment_finished", async () => {
    const { a, id } = await readyTenant("cancel-done");
    const list = (await a.call("GET", `/api/v1/tenants/${id}/deployments`)).json.data;
    const c = await a.call("POST", `/api/v1/tenants/${id}/deployments/${list[0].id}/cancel`, {});
    expect(c.status).toBe(409);
    expect(c.json.error.code).toBe("deployment_finished");
  });

  test("the cancel route is in the OpenAPI document, marked as an extension", async () => {
    const a = await fakeApp();
    const doc = (await a.call("GET", "/api/v1/openapi.json")).json;
    const op = doc.paths["/api/v1/tenants/{id}/deployments/{depId}/cancel"]?.post;
    expect(op?.summary).toBe("Cancel a deployment (extension)");
    expect(op?.description).toContain("Extension of the Staxa API");
  });
});

describe("deadlines", () => {
  test("a build longer than STAXA_BUILD_TIMEOUT_SEC ends failed 'timed out after N s in build'", async () => {
    const { a, id, old } = await readyTenant("slow-build");
    Object.assign(a.ctx.config, { buildTimeoutSec: 1 }); // a setting changed at run time (the context reads it per deployment)
    a.runtime.buildDelayMs = 60_000;
    const d = (await a.call("POST", `/api/v1/tenants/${id}/deployments`, {})).json.data;
    await a.idle();
    expect(await dep(a, id, d.id)).toMatchObject({ status: "failed", reason: "timed out after 1 s in build" });
    expect(a.runtime.running().map((c) => c.id)).toEqual([old.id]);
  });

  test("a step that ignores its signal is still left at its deadline", async () => {
    const never = new Promise<never>(() => {});
    const t0 = Date.now();
    const err = await withinDeadline("route", 0.05, new AbortController().signal, () => never).catch((e) => e);
    expect(err.message).toBe("timed out after 0.05 s in route");
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
