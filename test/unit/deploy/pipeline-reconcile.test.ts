// Reconciliation over the fakes: interrupted deployments fail, healthy tenants are left alone,
// routes re-asserted from the store, labelled orphans of this store removed, foreign containers kept.
import { expect, test } from "bun:test";
import { fakeApp } from "../../support/fakes.ts";
import { failInterrupted, reconcile, reconcileTick, INTERRUPTED } from "../../../src/core/deploy/reconcile.ts";
import { purgeExpiredTestTenants } from "../../../src/scheduler/tenant-jobs.ts";
import { cancelTenantWork, configureDeployer } from "../../../src/core/deploy/deployer.ts";
import { createKey } from "../../../src/core/identity/keys.ts";

const gitBody = (name: string) => ({ name, source_type: "github", repo_url: "https://example.com/acme/app.git" });

test("restart: interrupted deployment failed with reason, healthy tenant kept, routes restored, orphans removed", async () => {
  const a = await fakeApp();
  const healthy = (await a.call("POST", "/api/v1/tenants", gitBody("healthy"))).json.data.id;
  await a.idle();
  const kept = a.runtime.running()[0];
  // Simulate a crash mid-deploy: a deployment stuck in "building", tenant "deploying", a candidate container left behind.
  const stuck = (await a.call("POST", "/api/v1/tenants", gitBody("stuck"))).json.data.id;
  a.runtime.buildDelayMs = 10_000;
  await Bun.sleep(30);
  const depId = (a.ctx.db.query("SELECT id FROM deployments WHERE tenant_id = ?").get(stuck) as any).id;
  const orphan = await a.runtime.startContainer({
    ...[...a.runtime.containers.values()][0].spec,
    name: "staxa-stuck-web-x",
    labels: { "staxa.managed": "1", "staxa.tenant_id": stuck },
  });
  const foreign = await a.runtime.startContainer({
    ...[...a.runtime.containers.values()][0].spec,
    name: "other",
    labels: { "staxa.managed": "1", "staxa.tenant_id": "ten_elsewhere" },
  });
  // the process "dies": its in-memory work stops, the store keeps what it had written
  cancelTenantWork(a.deps, stuck, "crash");
  await a.idle();
  a.ctx.db.query("UPDATE deployments SET status = 'building', reason = NULL, finished_at = NULL WHERE id = ?").run(depId);
  a.ctx.db.query("UPDATE tenants SET status = 'deploying' WHERE id = ?").run(stuck);
  a.proxy.routes.clear();
  const builds = a.runtime.builds.length;

  expect(failInterrupted(a.deps)).toBe(1);
  const r = await reconcile(a.deps, 1);
  expect((await a.call("GET", `/api/v1/tenants/${stuck}/deployments/${depId}`)).json.data).toMatchObject({
    status: "failed",
    reason: INTERRUPTED,
  });
  expect((await a.call("GET", `/api/v1/tenants/${stuck}`)).json.data.status).toBe("failed");
  expect((await a.call("GET", `/api/v1/tenants/${healthy}`)).json.data.status).toBe("ready");
  expect(r.orphansRemoved).toEqual(["staxa-stuck-web-x"]);
  expect(a.runtime.containers.has(orphan.id)).toBe(false);
  expect(a.runtime.containers.has(foreign.id)).toBe(true);
  expect(a.runtime.containers.has(kept.id)).toBe(true);
  expect(a.proxy.routes.get("healthy.web")!.upstream).toBe(`${kept.ip}:3000`);
  expect(r.restored).toEqual([]);
  expect(a.runtime.builds.length).toBe(builds);
  // and a new deploy succeeds
  a.runtime.buildDelayMs = 0;
  const again = await a.call("POST", `/api/v1/tenants/${stuck}/deployments`, {});
  await a.idle();
  expect((await a.call("GET", `/api/v1/tenants/${stuck}/deployments/${again.json.data.id}`)).json.data.status).toBe("succeeded");
  expect((await a.call("GET", `/api/v1/tenants/${stuck}`)).json.data.status).toBe("ready");
});

test("a container that vanished is started again from its image, without a build", async () => {
  const a = await fakeApp();
  const id = (await a.call("POST", "/api/v1/tenants", gitBody("vanish"))).json.data.id;
  await a.idle();
  a.runtime.containers.clear();
  const builds = a.runtime.builds.length;
  const r = await reconcile(a.deps);
  expect(r.restored).toEqual(["vanish.web"]);
  await a.idle();
  expect(a.runtime.running()).toHaveLength(1);
  expect(a.runtime.builds.length).toBe(builds);
  expect((await a.call("GET", `/api/v1/tenants/${id}`)).json.data.status).toBe("ready");
});

test("Docker down during reconcile throws instead of reading containers as gone", async () => {
  const a = await fakeApp();
  await a.call("POST", "/api/v1/tenants", gitBody("keepme"));
  await a.idle();
  a.runtime.down = true;
  await expect(reconcile(a.deps)).rejects.toThrow("docker");
  a.runtime.down = false;
  expect(a.runtime.running()).toHaveLength(1);
});

test("test-mode tenants older than the TTL are purged; live ones stay", async () => {
  const a = await fakeApp({ STAXA_TEST_TENANT_TTL_HOURS: "1" });
  const testKey = createKey(a.ctx.db, { providerId: a.provider.id, name: "t", mode: "test", scopes: ["*"], expiresAt: null }).raw;
  await a.call("POST", "/api/v1/tenants", gitBody("old-test"), { authorization: `Bearer ${testKey}` });
  await a.call("POST", "/api/v1/tenants", gitBody("old-live"));
  await a.idle();
  a.ctx.db.query("UPDATE tenants SET created_at = '2000-01-01T00:00:00Z'").run();
  expect(purgeExpiredTestTenants(a.deps)).toEqual(["old-test"]);
  await a.idle();
  expect(a.ctx.db.query("SELECT name FROM tenants").all()).toEqual([{ name: "old-live" }]);
});

test("the reconcile tick repairs drifted routes but leaves a tenant mid-deployment alone (its route leads the store)", async () => {
  const a = await fakeApp();
  await a.call("POST", "/api/v1/tenants", gitBody("drift"));
  const busyId = (await a.call("POST", "/api/v1/tenants", gitBody("busy"))).json.data.id;
  await a.idle();
  const good = { drift: a.proxy.routes.get("drift.web")!.upstream, busy: a.proxy.routes.get("busy.web")!.upstream };
  // drift: Caddy lost the right upstream; busy: a deployment switched Caddy to its candidate, the store not yet
  a.proxy.routes.set("drift.web", { ...a.proxy.routes.get("drift.web")!, upstream: "10.99.0.1:3000" });
  a.proxy.routes.set("busy.web", { ...a.proxy.routes.get("busy.web")!, upstream: "10.99.0.2:3000" });
  a.ctx.db.query("UPDATE deployments SET status = 'deploying', finished_at = NULL WHERE tenant_id = ?").run(busyId);
  a.proxy.calls = [];
  await reconcileTick(a.ctx);
  expect(a.proxy.routes.get("drift.web")!.upstream).toBe(good.drift);
  expect(a.proxy.routes.get("busy.web")!.upstream).toBe("10.99.0.2:3000");
  expect(a.proxy.calls).toEqual(["set drift.web"]); // one route call for the one drifted route, no whole-table sync
  expect(good.busy).not.toBe("10.99.0.2:3000");
});

test("start-up: a tenant created while reconciliation runs is not taken for interrupted; its deploy waits for it, then runs", async () => {
  const a = await fakeApp();
  let finishStartup!: () => void;
  a.deps.deployer.queue.holdUntil(new Promise<void>((resolve) => (finishStartup = resolve)));
  const builds = a.runtime.builds.length;
  const id = (await a.call("POST", "/api/v1/tenants", gitBody("early"))).json.data.id;
  await Bun.sleep(30);
  expect(a.runtime.builds.length).toBe(builds); // held: nothing touches Docker before reconciliation is done
  const r = await reconcile(a.deps, 0);
  expect(r.restored).toEqual([]);
  expect((await a.call("GET", `/api/v1/tenants/${id}`)).json.data.status).toBe("provisioning");
  finishStartup();
  await a.idle();
  expect((await a.call("GET", `/api/v1/tenants/${id}`)).json.data.status).toBe("ready");
  expect(a.runtime.builds.length).toBe(builds + 1);
});

test("a reconciliation retried while a deploy is in flight leaves that tenant alone: candidate container, route and status", async () => {
  const a = await fakeApp();
  const id = (await a.call("POST", "/api/v1/tenants", gitBody("inflight"))).json.data.id;
  await a.idle();
  const before = a.proxy.routes.get("inflight.web")!;
  // The health check of the next version waits until released: the candidate runs, unrecorded in the store.
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  configureDeployer(a.deps, { probe: async (url) => (await gate, a.runtime.probe(url)) });
  await a.call("POST", `/api/v1/tenants/${id}/deployments`, {});
  const deadline = Date.now() + 5000;
  while (a.runtime.running().length < 2 && Date.now() < deadline) await Bun.sleep(5);
  expect(a.runtime.running()).toHaveLength(2);
  const r = await reconcile(a.deps, 0);
  expect(r.orphansRemoved).toEqual([]);
  expect(a.runtime.running()).toHaveLength(2);
  expect(a.proxy.routes.get("inflight.web")).toEqual(before);
  release();
  await a.idle();
  expect((await a.call("GET", `/api/v1/tenants/${id}`)).json.data.status).toBe("ready");
  expect(a.proxy.routes.get("inflight.web")!.upstream).not.toBe(before.upstream);
});
