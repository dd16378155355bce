// A tenant whose cluster service runs fewer tasks than its replicas is degraded, and ready again once all run: one
// rule (servingStatus) in the reconciliation plan, which the tick and the route follower's re-plans both apply.
import { describe, expect, test } from "bun:test";
import { plan, servingStatus, type DesiredTenant, type Observed } from "../../../src/core/deploy/reconcile-plan.ts";
import { canTenant } from "../../../src/core/deploy/states.ts";

const T = "ten_1";
const route = { id: "acme.web", hosts: ["acme.example.test"], tls: false };

function tenant(status: string, more: Partial<DesiredTenant> = {}): DesiredTenant[] {
  const web = { id: "svc_1", name: "web", isPrimary: true, containerId: "svc", ip: null, port: 8080, route, replicas: 1 };
  return [{ id: T, name: "acme", status, busy: false, services: [{ ...web, tasks: 3 }], ...more }];
}

/** The service as the swarm engine reports it: running, one upstream per running task. */
function observed(upstreams: string[]): Observed {
  const c = { id: "svc", name: "staxa-acme-web-x", running: true, ip: "10.215.5.11", upstreams, tenantId: T };
  return { containers: [c], routes: [{ ...route, upstream: upstreams[0]!, upstreams }] };
}

const THREE = ["10.215.5.11:30001", "10.215.5.12:30002", "10.215.5.13:30003"];
const TWO = THREE.slice(0, 2);
const statusSteps = (d: DesiredTenant[], o: Observed) => plan(d, o, "tick").filter((s) => s.op === "tenant-status");

describe("degraded while a cluster service runs fewer tasks than its replicas", () => {
  test("a ready tenant with 2 of 3 tasks running becomes degraded, naming the service and the count", () => {
    expect(statusSteps(tenant("ready"), observed(TWO))).toEqual([
      { op: "tenant-status", tenantId: T, status: "degraded", reason: "web: 2 of 3 replicas running" },
    ]);
  });

  test("a degraded tenant whose 3 tasks run again is ready, its reason cleared", () => {
    expect(statusSteps(tenant("degraded"), observed(THREE))).toEqual([
      { op: "tenant-status", tenantId: T, status: "ready", reason: null },
    ]);
  });

  test("nothing is planned while the status already says it (ready with all, degraded with fewer)", () => {
    expect(statusSteps(tenant("ready"), observed(THREE))).toEqual([]);
    expect(statusSteps(tenant("degraded"), observed(TWO))).toEqual([]);
  });

  test("a deployment's statuses are its own: a busy, failed or deploying tenant is never marked degraded", () => {
    expect(statusSteps(tenant("ready", { busy: true }), observed(TWO))).toEqual([]);
    expect(statusSteps(tenant("failed"), observed(TWO))).toEqual([]);
    expect(statusSteps(tenant("deploying"), observed(TWO))).toEqual([]);
  });

  test("on one host (no task count) the rule does not apply: its replicas are restored slot by slot", () => {
    const d = tenant("ready");
    delete d[0]!.services[0]!.tasks;
    expect(statusSteps(d, observed(TWO))).toEqual([]);
  });

  test("a cluster service with no task running is left to the engine (degraded, route kept), never redeployed beside it", () => {
    const none: Observed = { ...observed([]), containers: [{ ...observed([]).containers[0]!, running: false }] };
    expect(plan(tenant("ready"), none, "tick")).toEqual([
      { op: "tenant-status", tenantId: T, status: "degraded", reason: "web: 0 of 3 replicas running" },
    ]);
    // The service itself gone (removed by hand): restored, as on one host.
    expect(plan(tenant("ready"), { containers: [], routes: none.routes }, "tick")).toEqual([
      { op: "restore", tenantId: T, serviceId: "svc_1", label: "acme.web" },
    ]);
  });

  test("the route holds the running tasks meanwhile", () => {
    const steps = plan(tenant("ready"), { ...observed(TWO), routes: [] }, "tick");
    expect(steps.find((s) => s.op === "set-route")).toEqual({
      op: "set-route",
      route: { ...route, upstream: TWO[0]!, upstreams: TWO },
    });
  });

  test("servingStatus moves only between ready and degraded, and the state table allows exactly that", () => {
    expect(servingStatus("ready", ["web: 1 of 3 replicas running"])?.status).toBe("degraded");
    expect(servingStatus("degraded", [])?.status).toBe("ready");
    expect(servingStatus("provisioning", ["x"])).toBeUndefined();
    expect([
      canTenant("ready", "degraded"),
      canTenant("degraded", "ready"),
      canTenant("degraded", "deploying"),
      canTenant("degraded", "deleting"),
      canTenant("degraded", "provisioning"),
      canTenant("failed", "degraded"),
    ]).toEqual([true, true, true, true, false, false]);
  });
});
