// Replicas through the API over the fakes: created with `replicas`, rolled one at a time by a deployment, scaled by
// PATCH without a build, repaired by reconciliation; a stateful service and out-of-range counts are 400s naming
// `replicas`.
import { describe, expect, test } from "bun:test";
import { fakeApp } from "../../support/fakes.ts";
import { reconcile, reconcileTick } from "../../../src/core/deploy/reconcile.ts";

const IMAGE = { source_type: "image", image_url: "registry.example.test/acme/app:1", app_port: 3000 };

async function scaled(n: number) {
  const a = await fakeApp();
  a.runtime.images.set("registry.example.test/acme/app:1", "sha256:app1");
  const res = await a.call("POST", "/api/v1/tenants", { name: "acme", ...IMAGE, replicas: n });
  expect(res.status).toBe(202);
  await a.idle();
  return a;
}

const upstreams = (a: Awaited<ReturnType<typeof fakeApp>>) => {
  const r = a.proxy.routes.get("acme.web");
  return r ? (r.upstreams ?? [r.upstream]) : [];
};
const names = (a: Awaited<ReturnType<typeof fakeApp>>) =>
  a.runtime
    .running()
    .map((c) => c.name)
    .sort();
const ipsOf = (a: Awaited<ReturnType<typeof fakeApp>>) =>
  a.runtime
    .running()
    .map((c) => `${c.ip}:3000`)
    .sort();

describe("replicas", () => {
  test("created with 3: three containers (replica 1 keeps the single-container name), all three routed", async () => {
    const a = await scaled(3);
    const [first] = names(a);
    expect(names(a)).toEqual([first, `${first}-r2`, `${first}-r3`]);
    expect(upstreams(a).sort()).toEqual(ipsOf(a));
    const svc = (await a.call("GET", `/api/v1/tenants/${(await a.call("GET", "/api/v1/tenants")).json.data[0].id}/services`)).json
      .data[0];
    expect([svc.replicas, svc.replicas_running]).toEqual([3, 3]);
  });

  test("a redeploy replaces every replica; the route only ever names running containers", async () => {
    const a = await scaled(3);
    const id = (await a.call("GET", "/api/v1/tenants")).json.data[0].id;
    const before = ipsOf(a);
    const seen: string[][] = [];
    const set = a.proxy.setRoute.bind(a.proxy);
    a.proxy.setRoute = async (r) => {
      const running = new Set(ipsOf(a));
      seen.push((r.upstreams ?? [r.upstream]).filter((u) => !running.has(u)));
      return set(r);
    };
    const dep = await a.call("POST", `/api/v1/tenants/${id}/deployments`, {});
    await a.idle();
    expect((await a.call("GET", `/api/v1/tenants/${id}/deployments/${dep.json.data.id}`)).json.data.status).toBe("succeeded");
    expect(ipsOf(a).length).toBe(3);
    expect(ipsOf(a).some((ip) => before.includes(ip))).toBe(false);
    expect(upstreams(a).sort()).toEqual(ipsOf(a));
    expect(seen.length).toBe(3); // one route change per replica
    expect(seen.flat()).toEqual([]); // never a stopped container in the route
  });

  test("a new replica that fails its health check: the old replicas serve again, the deployment fails", async () => {
    const a = await scaled(3);
    const id = (await a.call("GET", "/api/v1/tenants")).json.data[0].id;
    const old = ipsOf(a);
    const oldImage = a.runtime.running()[0]!.image;
    a.runtime.behaviour = (spec) => (spec.name.endsWith("-r3") ? { httpStatus: 503 } : {});
    const dep = await a.call("POST", `/api/v1/tenants/${id}/deployments`, {});
    await a.idle();
    expect((await a.call("GET", `/api/v1/tenants/${id}/deployments/${dep.json.data.id}`)).json.data.status).toBe("failed");
    a.runtime.behaviour = () => ({});
    await a.idle(); // the slot whose old replica had gone is started again from the old image
    expect(ipsOf(a).length).toBe(3);
    expect(upstreams(a).sort()).toEqual(ipsOf(a));
    expect(a.runtime.running().map((c) => c.image)).toEqual([oldImage, oldImage, oldImage]);
    expect(old.filter((ip) => ipsOf(a).includes(ip)).length).toBe(2); // replicas 1 and 3 never stopped
  });

  test("PATCH scales 1 → 3 → 1 without a build; scale-down leaves the route before the container stops", async () => {
    const a = await scaled(1);
    const id = (await a.call("GET", "/api/v1/tenants")).json.data[0].id;
    const up = await a.call("PATCH", `/api/v1/tenants/${id}/services/web`, { replicas: 3 });
    expect(up.status).toBe(202);
    expect(up.json.data.replicas).toBe(3);
    await a.idle();
    expect(ipsOf(a).length).toBe(3);
    expect(upstreams(a).sort()).toEqual(ipsOf(a));
    expect(a.runtime.builds.length + a.runtime.pulls.length).toBeLessThanOrEqual(1); // the first deploy's only

    const stoppedWhileRouted: string[] = [];
    const stop = a.runtime.stopAndRemove.bind(a.runtime);
    a.runtime.stopAndRemove = async (cid: string) => {
      const ip = a.runtime.containers.get(cid)?.info.ip;
      if (ip && upstreams(a).includes(`${ip}:3000`)) stoppedWhileRouted.push(ip);
      return stop(cid);
    };
    expect((await a.call("PATCH", `/api/v1/tenants/${id}/services/web`, { replicas: 1 })).status).toBe(202);
    await a.idle();
    expect(ipsOf(a).length).toBe(1);
    expect(upstreams(a)).toEqual(ipsOf(a));
    expect(stoppedWhileRouted).toEqual([]);
  });

  test("reconciliation: a vanished replica is restored, and after a restart every replica is routed", async () => {
    const a = await scaled(3);
    const r2 = a.runtime.running().find((c) => c.name.endsWith("-r2"))!;
    a.runtime.containers.delete(r2.id);
    await reconcileTick(a.deps);
    await a.idle();
    expect(ipsOf(a).length).toBe(3);
    expect(upstreams(a).sort()).toEqual(ipsOf(a));
    a.proxy.routes.clear(); // a restart with an empty routing table
    await reconcile(a.deps);
    expect(upstreams(a).sort()).toEqual(ipsOf(a));
  });

  test("the periodic tick leaves a tenant whose lane has work (a scale under way) to it", async () => {
    const a = await scaled(3);
    const id = (await a.call("GET", "/api/v1/tenants")).json.data[0].id;
    const full = a.proxy.routes.get("acme.web")!;
    a.proxy.routes.set("acme.web", { ...full, upstreams: undefined }); // a route as a scale in progress left it
    let release!: () => void;
    const held = a.deps.deployer.queue.enqueue(id, () => new Promise<void>((r) => (release = r)));
    await reconcileTick(a.deps);
    expect(upstreams(a).length).toBe(1);
    release();
    await held;
    await reconcileTick(a.deps);
    expect(upstreams(a).sort()).toEqual(ipsOf(a));
  });

  test("400 naming replicas: a stateful service, out of range, not an integer, above STAXA_MAX_REPLICAS", async () => {
    const a = await fakeApp({ STAXA_MAX_REPLICAS: "2" });
    const bad = async (body: Record<string, unknown>) => {
      const r = await a.call("POST", "/api/v1/tenants", { name: "acme", ...IMAGE, ...body });
      return [r.status, r.json.error.details.field];
    };
    expect(await bad({ replicas: 2, volumes: [{ name: "data", mount_path: "/data" }] })).toEqual([400, "replicas"]);
    expect(await bad({ replicas: 0 })).toEqual([400, "replicas"]);
    expect(await bad({ replicas: 3 })).toEqual([400, "replicas"]);
    expect(await bad({ replicas: "2" })).toEqual([400, "replicas"]);
    expect(await bad({ replicas: 1.5 })).toEqual([400, "replicas"]);
    a.runtime.images.set("registry.example.test/acme/app:1", "sha256:app1");
    const ok = await a.call("POST", "/api/v1/tenants", {
      name: "acme",
      ...IMAGE,
      volumes: [{ name: "data", mount_path: "/data" }],
    });
    expect(ok.status).toBe(202);
    const p = await a.call("PATCH", `/api/v1/tenants/${ok.json.data.id}/services/web`, { replicas: 2 });
    expect([p.status, p.json.error.details.field]).toEqual([400, "replicas"]);
    expect(p.json.error.message).toContain("volumes");
    const unknown = await a.call("PATCH", `/api/v1/tenants/${ok.json.data.id}/services/web`, { image_url: "x" });
    expect(unknown.status).toBe(400);
  });
});
