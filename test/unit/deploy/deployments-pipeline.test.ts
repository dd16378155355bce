// The pipeline over the fakes: stages, zero-downtime switch, failed health keeps the old container,
// rollback without build, build log, outside systems down, lanes and build slots.
import { describe, expect, test } from "bun:test";
import { fakeApp } from "../../support/fakes.ts";
import { DeployQueue } from "../../../src/core/deploy/queue.ts";

const gitBody = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  source_type: "github",
  repo_url: "https://example.com/acme/app.git",
  app_port: 3000,
  ...extra,
});
const stagesOf = (db: any, depId: string) =>
  db
    .query("SELECT stage, status FROM events WHERE deployment_id = ? ORDER BY id")
    .all(depId)
    .map((e: any) => `${e.stage}:${e.status}`);

async function readyTenant(name: string, env: Record<string, string> = {}) {
  const a = await fakeApp(env);
  const r = await a.call("POST", "/api/v1/tenants", gitBody(name));
  await a.idle();
  return { a, id: r.json.data.id as string, dep: r.json.data.deployments[0]?.id as string };
}

describe("pipeline", () => {
  test("emits provision, build, deploy, health, route, ready in order; records commit and timings", async () => {
    const { a, id } = await readyTenant("stages");
    const dep = (await a.call("GET", `/api/v1/tenants/${id}/deployments`)).json.data[0];
    expect(stagesOf(a.ctx.db, dep.id)).toEqual([
      "info:queued",
      "provision:running",
      "provision:done",
      "build:running",
      "build:running",
      "build:done",
      "deploy:running",
      "deploy:done",
      "health:running",
      "health:done",
      "route:running",
      "route:done",
      "ready:done",
    ]);
    expect(dep).toMatchObject({
      status: "succeeded",
      branch: "main",
      commit_sha: "0123456789abcdef0123456789abcdef01234567",
      framework: "dockerfile",
      build_log_url: `/api/v1/tenants/${id}/deployments/${dep.id}/logs`,
    });
    expect(dep.timings.total_ms).toBeGreaterThanOrEqual(0);
    const log = await a.call("GET", dep.build_log_url);
    expect(log.headers.get("content-type")).toContain("text/plain");
    expect(log.text).toContain("Successfully built");
  });

  test("redeploy switches the route to the new container, then removes the old one", async () => {
    const { a, id } = await readyTenant("switch");
    const old = a.runtime.running()[0];
    const r = await a.call("POST", `/api/v1/tenants/${id}/deployments`, { commit_sha: "abcdef1" });
    expect(r.status).toBe(202);
    expect(r.json.data.status).toBe("queued");
    await a.idle();
    const now = a.runtime.running();
    expect(now).toHaveLength(1);
    expect(now[0].id).not.toBe(old.id);
    expect(a.proxy.routes.get("switch.web")!.upstream).toBe(`${now[0].ip}:3000`);
    expect(a.git.clones.at(-1)!.commitSha).toBe("abcdef1");
    expect((await a.call("GET", `/api/v1/tenants/${id}/deployments/${r.json.data.id}`)).json.data.commit_sha).toBe("abcdef1");
  });

  test("a broken version fails health: old container keeps serving, deployment failed with reason and logs, tenant ready", async () => {
    const { a, id } = await readyTenant("broken");
    const old = a.runtime.running()[0];
    a.runtime.behaviour = () => ({ running: false, exitCode: 3, logs: ["boom: missing config"] });
    const r = await a.call("POST", `/api/v1/tenants/${id}/deployments`, {});
    await a.idle();
    const dep = (await a.call("GET", `/api/v1/tenants/${id}/deployments/${r.json.data.id}`)).json.data;
    expect(dep.status).toBe("failed");
    expect(dep.reason).toContain("exited with code 3");
    expect(a.runtime.running().map((c) => c.id)).toEqual([old.id]);
    expect(a.proxy.routes.get("broken.web")!.upstream).toBe(`${old.ip}:3000`);
    expect((await a.call("GET", `/api/v1/tenants/${id}`)).json.data.status).toBe("ready");
    const err = a.ctx.bus.recent(id).find((e) => e.stage === "error")!;
    expect(err.data).toMatchObject({ failed_stage: "health", exit_code: 3, still_serving: true, logs: ["boom: missing config"] });
    expect(String(err.data!.url)).toMatch(/^http:\/\/10\.9\.\d+\.\d+:3000\/$/);
  });

  test("a health timeout names the URL and the last status; the first deploy failing leaves the tenant failed", async () => {
    const a = await fakeApp();
    a.runtime.behaviour = () => ({ httpStatus: 503 });
    const r = await a.call("POST", "/api/v1/tenants", gitBody("slow"));
    await a.idle();
    const t = (await a.call("GET", `/api/v1/tenants/${r.json.data.id}`)).json.data;
    expect(t.status).toBe("failed");
    expect(t.status_reason).toContain("did not succeed within");
    expect(t.status_reason).toContain("HTTP 503");
    expect(a.runtime.running()).toHaveLength(0);
    expect(a.proxy.routes.size).toBe(0);
    expect(t.services[0].status).toBe("failed"); // not "pending" forever: nothing serves and the user sees why
  });

  test("a broken redeploy leaves the serving service running", async () => {
    const { a, id } = await readyTenant("keeprun");
    a.runtime.behaviour = () => ({ running: false, exitCode: 1 });
    await a.call("POST", `/api/v1/tenants/${id}/deployments`, {});
    await a.idle();
    expect((await a.call("GET", `/api/v1/tenants/${id}`)).json.data.services[0].status).toBe("running");
  });

  test("rollback reuses the old image: no clone, no build stage, the old image runs", async () => {
    const { a, id } = await readyTenant("rolly");
    const first = (await a.call("GET", `/api/v1/tenants/${id}/deployments`)).json.data[0];
    await a.call("POST", `/api/v1/tenants/${id}/deployments`, {});
    await a.idle();
    const clones = a.git.clones.length;
    const builds = a.runtime.builds.length;
    const r = await a.call("POST", `/api/v1/tenants/${id}/deployments/${first.id}/rollback`);
    expect(r.status).toBe(202);
    expect(r.json.data.rollback_from).toBe(first.id);
    await a.idle();
    expect([a.git.clones.length, a.runtime.builds.length]).toEqual([clones, builds]);
    expect(stagesOf(a.ctx.db, r.json.data.id).filter((s: string) => s.startsWith("build"))).toEqual([]);
    expect(stagesOf(a.ctx.db, r.json.data.id).at(-1)).toBe("ready:done");
    const firstImage = a.runtime.images.get(`staxa/rolly-web:${first.id.slice(4)}`);
    expect(a.runtime.running()[0].image).toBe(firstImage!);
    const failedRollback = await a.call("POST", `/api/v1/tenants/${id}/deployments/dep_unknown/rollback`);
    expect(failedRollback.status).toBe(404);
  });

  test("rollback to a failed deployment is 422", async () => {
    const { a, id } = await readyTenant("norolly");
    a.runtime.buildError = new Error("build exploded");
    const r = await a.call("POST", `/api/v1/tenants/${id}/deployments`, {});
    await a.idle();
    expect((await a.call("POST", `/api/v1/tenants/${id}/deployments/${r.json.data.id}/rollback`)).status).toBe(422);
  });

  test("without a Dockerfile the deployment fails saying so", async () => {
    const a = await fakeApp();
    a.git.files = { "README.md": "hi" };
    const r = await a.call("POST", "/api/v1/tenants", gitBody("nodocker"));
    await a.idle();
    const t = (await a.call("GET", `/api/v1/tenants/${r.json.data.id}`)).json.data;
    expect(t.status).toBe("failed");
    expect(t.deployments[0].reason).toContain("Dockerfile");
  });

  test("Docker down: the API answers, the deployment fails with a clear error event", async () => {
    const a = await fakeApp();
    a.runtime.down = true;
    const r = await a.call("POST", "/api/v1/tenants", gitBody("nodocker2"));
    expect(r.status).toBe(202);
    await a.idle();
    const t = (await a.call("GET", `/api/v1/tenants/${r.json.data.id}`)).json.data;
    expect(t.status).toBe("failed");
    expect(t.deployments[0].reason).toContain("docker");
    expect(a.ctx.bus.recent(r.json.data.id).at(-1)).toMatchObject({ stage: "error", data: { failed_stage: "provision" } });
  });

  test("Caddy down: route fails, candidate removed, old container keeps serving", async () => {
    const { a, id } = await readyTenant("nocaddy");
    const old = a.runtime.running()[0];
    a.proxy.down = true;
    const r = await a.call("POST", `/api/v1/tenants/${id}/deployments`, {});
    await a.idle();
    expect((await a.call("GET", `/api/v1/tenants/${id}/deployments/${r.json.data.id}`)).json.data).toMatchObject({
      status: "failed",
    });
    expect(a.runtime.running().map((c) => c.id)).toEqual([old.id]);
    a.proxy.down = false;
    const again = await a.call("POST", `/api/v1/tenants/${id}/deployments`, {});
    await a.idle();
    expect((await a.call("GET", `/api/v1/tenants/${id}/deployments/${again.json.data.id}`)).json.data.status).toBe("succeeded");
  });

  test("deploys of one tenant never interleave", async () => {
    const { a, id } = await readyTenant("serial");
    a.runtime.buildDelayMs = 30;
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await a.call("POST", `/api/v1/tenants/${id}/deployments`, {})).json.data.id);
    await a.idle();
    const rows = a.ctx.db
      .query("SELECT id, started_at, finished_at FROM deployments WHERE id IN (?, ?, ?) ORDER BY rowid")
      .all(...ids) as any[];
    const ev = a.ctx.db
      .query("SELECT deployment_id FROM events WHERE tenant_id = ? AND stage != 'info' ORDER BY id")
      .all(id)
      .map((e: any) => e.deployment_id);
    // events of each deployment form one contiguous block
    const blocks = ev.filter((d: string, i: number) => i === 0 || ev[i - 1] !== d);
    expect(new Set(blocks).size).toBe(blocks.length);
    expect(rows.every((r) => r.finished_at)).toBe(true);
  });

  test("delete during a build cancels it and cleans up", async () => {
    const a = await fakeApp();
    a.runtime.buildDelayMs = 5_000;
    const r = await a.call("POST", "/api/v1/tenants", gitBody("cancelme"));
    await Bun.sleep(50);
    await a.call("DELETE", `/api/v1/tenants/${r.json.data.id}`);
    const t0 = Date.now();
    await a.idle();
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(a.ctx.db.query("SELECT COUNT(*) AS n FROM tenants").get()).toEqual({ n: 0 });
  });
});

describe("DeployQueue", () => {
  test("build slots bound concurrency globally", async () => {
    const q = new DeployQueue(2);
    let peak = 0;
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        q.enqueue(`t${i}`, () =>
          q.withBuildSlot(async () => {
            peak = Math.max(peak, q.activeBuilds);
            await Bun.sleep(10);
          }),
        ),
      ),
    );
    expect(peak).toBe(2);
    expect(q.activeBuilds).toBe(0);
  });

  test("a failing task does not block its lane", async () => {
    const q = new DeployQueue(1);
    const seen: number[] = [];
    q.enqueue("a", async () => {
      throw new Error("x");
    });
    await q.enqueue("a", async () => {
      seen.push(1);
    });
    expect(seen).toEqual([1]);
    expect(q.pending("a")).toBe(0);
  });
});
