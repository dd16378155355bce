// Reconciliation planned as data. Per app shape, through the pipeline over the fakes: the port a deployment went live
// with is the one reconciliation routes to, a healthy tenant plans nothing, and each drift plans exactly its repair.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fakeApp } from "../../support/fakes.ts";
import { desiredState, observedState, reconcile, reconcileTick } from "../../../src/core/deploy/reconcile.ts";
import { plan, type DesiredTenant, type Observed } from "../../../src/core/deploy/reconcile-plan.ts";

const FIXTURES = join(import.meta.dir, "../../fixtures/frameworks");

/** A fixture repo as the fake git's files. */
function repoFiles(name: string): Record<string, string> {
  const root = join(FIXTURES, name, "repo");
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(root, p)] = readFileSync(p, "utf8");
    }
  };
  walk(root);
  return out;
}

const git = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  source_type: "github",
  repo_url: "https://example.com/acme/app.git",
  ...extra,
});

const SHAPES: Array<{
  shape: string;
  fixture: string;
  body: (n: string) => Record<string, unknown>;
  route: string;
  port: number;
}> = [
  { shape: "static site", fixture: "static", body: (n) => git(n), route: "web", port: 8080 },
  { shape: "Go app", fixture: "go", body: (n) => git(n), route: "web", port: 8080 },
  { shape: "Python (FastAPI)", fixture: "python-fastapi", body: (n) => git(n), route: "web", port: 8000 },
  { shape: "Vite SPA", fixture: "vite", body: (n) => git(n), route: "web", port: 8080 },
  { shape: "Node on 3000", fixture: "node-npm", body: (n) => git(n), route: "web", port: 3000 },
  { shape: "explicit app_port", fixture: "static", body: (n) => git(n, { app_port: 5000 }), route: "web", port: 5000 },
  {
    shape: "non-primary service",
    fixture: "python-fastapi",
    body: (n) => ({ name: n, services: [git("web", { is_routable: true, port: 3000 }), git("api", { is_routable: true })] }),
    route: "api",
    port: 8000,
  },
];

describe("a deployed app keeps its port through reconciliation", () => {
  for (const s of SHAPES) {
    test(`${s.shape}: routed to :${s.port}, nothing planned when healthy, each drift planned as its repair`, async () => {
      const a = await fakeApp();
      a.git.files = repoFiles(s.fixture);
      const name = `shape-${SHAPES.indexOf(s)}`;
      const res = await a.call("POST", "/api/v1/tenants", s.body(name));
      expect(res.status).toBe(202);
      await a.idle();
      const routeId = `${name}.${s.route}`;
      const route = a.proxy.routes.get(routeId)!;
      expect(route.upstream).toMatch(new RegExp(`:${s.port}$`));

      // Healthy: both passes plan nothing, and two ticks and a start-up pass leave the route as it is.
      expect(plan(desiredState(a.deps), await observedState(a.deps), "tick")).toEqual([]);
      await reconcileTick(a.deps);
      await reconcileTick(a.deps);
      await reconcile(a.deps);
      expect(a.proxy.routes.get(routeId)).toEqual(route);

      // Drift 1: the route points at the wrong port → exactly one set-route back to the live port.
      a.proxy.routes.set(routeId, { ...route, upstream: route.upstream.replace(/:\d+$/, ":3001") });
      expect(plan(desiredState(a.deps), await observedState(a.deps), "tick")).toEqual([{ op: "set-route", route }]);
      await reconcileTick(a.deps);
      expect(a.proxy.routes.get(routeId)).toEqual(route);

      // Drift 2: the container is gone → exactly one restore of that service (its image again, no build).
      const svc = a.ctx.db
        .query("SELECT id, container_id FROM services WHERE name = ? AND tenant_id = ?")
        .get(s.route, res.json.data.id) as { id: string; container_id: string };
      a.runtime.containers.delete(svc.container_id);
      expect(plan(desiredState(a.deps), await observedState(a.deps), "tick")).toEqual([
        { op: "restore", tenantId: res.json.data.id, serviceId: svc.id, label: routeId },
      ]);
      const builds = a.runtime.builds.length;
      await reconcileTick(a.deps);
      await a.idle();
      expect(a.runtime.builds.length).toBe(builds);
      expect(a.proxy.routes.get(routeId)!.upstream).toMatch(new RegExp(`:${s.port}$`));
      expect(plan(desiredState(a.deps), await observedState(a.deps), "tick")).toEqual([]);
    });
  }
});

describe("plan() as a table", () => {
  const base = { id: "acme.web", hosts: ["acme.example.test"], tls: false };
  const tenant = (over: Partial<DesiredTenant> = {}, svc: Record<string, unknown> = {}): DesiredTenant => ({
    id: "ten_1",
    name: "acme",
    status: "ready",
    busy: false,
    services: [{ id: "svc_1", name: "web", isPrimary: true, containerId: "c1", ip: "10.0.0.2", port: 8080, route: base, ...svc }],
    ...over,
  });
  const running = (over: Record<string, unknown> = {}) => ({
    id: "c1",
    name: "staxa-acme-web",
    running: true,
    ip: "10.0.0.2",
    tenantId: "ten_1",
    ...over,
  });
  const routed: Observed = { containers: [running()], routes: [{ ...base, upstream: "10.0.0.2:8080" }] };

  test.each([
    ["healthy", [tenant()], routed, []],
    [
      "route missing",
      [tenant()],
      { ...routed, routes: [] },
      [{ op: "set-route", route: { ...base, upstream: "10.0.0.2:8080" } }],
    ],
    [
      "container got a new address",
      [tenant()],
      { ...routed, containers: [running({ ip: "10.0.0.9" })] },
      [
        { op: "record-ip", tenantId: "ten_1", serviceId: "svc_1", ip: "10.0.0.9" },
        { op: "set-route", route: { ...base, upstream: "10.0.0.9:8080" } },
      ],
    ],
    [
      "container stopped",
      [tenant()],
      { ...routed, containers: [running({ running: false })] },
      [{ op: "restore", tenantId: "ten_1", serviceId: "svc_1", label: "acme.web" }],
    ],
    ["route of a tenant no longer in the store", [], routed, [{ op: "remove-route", id: "acme.web" }]],
    [
      "a busy tenant is left alone",
      [tenant({ busy: true })],
      { containers: [], routes: [{ ...base, upstream: "10.0.0.7:1" }] },
      [],
    ],
    [
      "deleting tenant: its cleanup removes everything",
      [tenant({ status: "deleting" })],
      routed,
      [{ op: "cleanup", tenantId: "ten_1" }],
    ],
    ["worker (not routable) running", [tenant({}, { route: null })], { containers: [running()], routes: [] }, []],
  ] as const)("tick: %s", (_name, desired, observed, steps) => {
    expect(plan(desired as unknown as DesiredTenant[], observed as unknown as Observed, "tick")).toEqual(steps as any);
  });

  test("start-up: settles an interrupted tenant, removes orphans of this store only, writes the table once", () => {
    const orphan = running({ id: "c2", name: "staxa-acme-web-old" });
    const foreign = running({ id: "c3", name: "other", tenantId: "ten_elsewhere" });
    const steps = plan([tenant({ status: "deploying" })], { containers: [running(), orphan, foreign], routes: [] }, "startup");
    expect(steps).toEqual([
      { op: "tenant-status", tenantId: "ten_1", status: "ready", reason: null },
      { op: "remove-container", tenantId: "ten_1", id: "c2", name: "staxa-acme-web-old" },
      { op: "sync-routes", routes: [{ ...base, upstream: "10.0.0.2:8080" }] },
    ]);
  });

  test("start-up: nothing serving after a crash → failed with the reason; a busy tenant's route is kept as Caddy has it", () => {
    const busyRoute = { id: "other.web", hosts: ["other.example.test"], tls: false, upstream: "10.0.1.2:3000" };
    const steps = plan(
      [
        tenant({ status: "provisioning" }, { containerId: null }),
        { id: "ten_2", name: "other", status: "deploying", busy: true, services: [] },
      ],
      { containers: [], routes: [busyRoute] },
      "startup",
    );
    expect(steps).toEqual([
      { op: "tenant-status", tenantId: "ten_1", status: "failed", reason: "interrupted by appliance restart" },
      { op: "sync-routes", routes: [busyRoute] },
    ]);
  });
});
