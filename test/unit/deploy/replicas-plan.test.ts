// Replicas in the reconciliation plan: desired count and recorded containers against what Docker runs give exact
// steps — missing slots started, stopped ones restored, slots above the count stopped after the route left them.
import { describe, expect, test } from "bun:test";
import { plan, type DesiredService, type DesiredTenant, type Observed } from "../../../src/core/deploy/reconcile-plan.ts";

const T = "ten_1";
const S = "svc_1";
const base = { id: "acme.web", hosts: ["acme.example.test"], tls: false };

function tenant(svc: Partial<DesiredService>, more: Partial<DesiredTenant> = {}): DesiredTenant[] {
  return [
    {
      id: T,
      name: "acme",
      status: "ready",
      busy: false,
      services: [
        {
          id: S,
          name: "web",
          isPrimary: true,
          containerId: "c1",
          ip: "10.0.0.1",
          port: 3000,
          route: base,
          replicas: 3,
          extra: [
            { slot: 2, containerId: "c2", ip: "10.0.0.2" },
            { slot: 3, containerId: "c3", ip: "10.0.0.3" },
          ],
          ...svc,
        },
      ],
      ...more,
    },
  ];
}

const running = (id: string, ip: string) => ({ id, name: `staxa-acme-web-x-${id}`, running: true, ip, tenantId: T });
const three = [running("c1", "10.0.0.1"), running("c2", "10.0.0.2"), running("c3", "10.0.0.3")];
const route = (...ips: string[]) => ({
  ...base,
  upstream: `${ips[0]}:3000`,
  ...(ips.length > 1 ? { upstreams: ips.map((ip) => `${ip}:3000`) } : {}),
});
const observed = (containers = three, routes = [route("10.0.0.1", "10.0.0.2", "10.0.0.3")]): Observed => ({ containers, routes });

describe("replicas in plan(desired, observed)", () => {
  test("three replicas running and routed: nothing to do, whatever order the route lists them in", () => {
    expect(plan(tenant({}), observed(), "tick")).toEqual([]);
    expect(plan(tenant({}), observed(three, [route("10.0.0.3", "10.0.0.1", "10.0.0.2")]), "tick")).toEqual([]);
  });

  test("a route missing a replica gets it back; start-up writes every replica into the table", () => {
    expect(plan(tenant({}), observed(three, [route("10.0.0.1")]), "tick")).toEqual([
      { op: "set-route", route: route("10.0.0.1", "10.0.0.2", "10.0.0.3") },
    ]);
    expect(plan(tenant({}), observed(three, []), "startup")).toEqual([
      { op: "sync-routes", routes: [route("10.0.0.1", "10.0.0.2", "10.0.0.3")] },
    ]);
  });

  test("replicas raised to 4: slot 4 is started (after the route steps)", () => {
    expect(plan(tenant({ replicas: 4 }), observed(), "tick")).toEqual([
      { op: "start-replica", tenantId: T, serviceId: S, slot: 4 },
    ]);
  });

  test("first scale of a one-replica service to 3: slots 2 and 3 started", () => {
    const one = tenant({ replicas: 3, extra: [] });
    expect(plan(one, observed([running("c1", "10.0.0.1")], [route("10.0.0.1")]), "tick")).toEqual([
      { op: "start-replica", tenantId: T, serviceId: S, slot: 2 },
      { op: "start-replica", tenantId: T, serviceId: S, slot: 3 },
    ]);
  });

  test("replicas lowered to 1: the route loses slots 2 and 3 first, then each is stopped", () => {
    expect(plan(tenant({ replicas: 1 }), observed(), "tick")).toEqual([
      { op: "set-route", route: route("10.0.0.1") },
      { op: "stop-replica", tenantId: T, serviceId: S, slot: 2, containerId: "c2" },
      { op: "stop-replica", tenantId: T, serviceId: S, slot: 3, containerId: "c3" },
    ]);
  });

  test("a replica whose container stopped or vanished: out of the route, then restored", () => {
    const stopped = [three[0]!, { ...three[1]!, running: false }];
    expect(plan(tenant({}), observed(stopped), "tick")).toEqual([
      { op: "set-route", route: route("10.0.0.1") },
      { op: "restore-replica", tenantId: T, serviceId: S, slot: 2, containerId: "c2" },
      { op: "restore-replica", tenantId: T, serviceId: S, slot: 3, containerId: "c3" },
    ]);
  });

  test("after a Docker restart a replica has a new address: recorded, and the route follows it", () => {
    const moved = [three[0]!, running("c2", "10.0.0.9"), three[2]!];
    expect(plan(tenant({}), observed(moved), "tick")).toEqual([
      { op: "record-replica-ip", tenantId: T, serviceId: S, slot: 2, containerId: "c2", ip: "10.0.0.9" },
      { op: "set-route", route: route("10.0.0.1", "10.0.0.9", "10.0.0.3") },
    ]);
  });

  test("start-up: recorded replicas are never orphans; an unrecorded container of the tenant is", () => {
    const stray = running("c9", "10.0.0.9");
    expect(plan(tenant({}), observed([...three, stray], []), "startup")).toEqual([
      { op: "remove-container", tenantId: T, id: "c9", name: stray.name },
      { op: "sync-routes", routes: [route("10.0.0.1", "10.0.0.2", "10.0.0.3")] },
    ]);
  });

  test("start-up with replica 3 gone: the others are routed, slot 3 restored after the table is written", () => {
    expect(plan(tenant({}), observed(three.slice(0, 2), []), "startup")).toEqual([
      { op: "sync-routes", routes: [route("10.0.0.1", "10.0.0.2")] },
      { op: "restore-replica", tenantId: T, serviceId: S, slot: 3, containerId: "c3" },
    ]);
  });

  test("replica 1 gone: the service is restored (a deployment rolls every replica); no replica step, no orphan", () => {
    const steps = plan(tenant({}), observed(three.slice(1), []), "startup");
    expect(steps).toEqual([
      { op: "restore", tenantId: T, serviceId: S, label: "acme.web" },
      { op: "sync-routes", routes: [] },
    ]);
  });

  test("a tenant mid-deployment (busy) or being deleted: its replicas are left alone", () => {
    expect(plan(tenant({ replicas: 1 }, { busy: true }), observed(), "tick")).toEqual([]);
    expect(plan(tenant({ replicas: 5 }, { status: "deleting" }), observed(), "tick")).toEqual([{ op: "cleanup", tenantId: T }]);
  });

  test("a worker (not routable) with replicas: containers only, no route", () => {
    expect(plan(tenant({ route: null, replicas: 4 }), observed(three, []), "tick")).toEqual([
      { op: "start-replica", tenantId: T, serviceId: S, slot: 4 },
    ]);
  });
});
