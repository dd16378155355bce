// PATCH replicas on a cluster engine: the service's replicas are the desired state; the plan scales the one Swarm
// service whose task count differs (once, through the same planner the tick and the route follower run).
import { expect, test } from "bun:test";
import { plan, type DesiredTenant, type Observed } from "../../../src/core/deploy/reconcile-plan.ts";

const T = "ten_1";
const route = { id: "acme.web", hosts: ["acme.example.test"], tls: false };
const UPS = ["10.215.5.11:30001", "10.215.5.12:30002"];

function desired(tasks: number | undefined, busy = false): DesiredTenant[] {
  const web = { id: "svc_1", name: "web", isPrimary: true, containerId: "svc", ip: null, port: 8080, route, replicas: 1 };
  return [{ id: T, name: "acme", status: "ready", busy, services: [{ ...web, ...(tasks ? { tasks } : {}) }] }];
}

function observed(replicas: number | undefined): Observed {
  const c = { id: "svc", name: "staxa-acme-web-x", running: true, ip: "10.215.5.11", upstreams: UPS, tenantId: T, replicas };
  return { containers: [c], routes: [{ ...route, upstream: UPS[0]!, upstreams: UPS }] };
}

const scales = (d: DesiredTenant[], o: Observed) => plan(d, o, "tick").filter((s) => s.op === "scale-service");

test("a service whose Swarm replicas differ from its replicas is scaled to them, up or down", () => {
  expect(scales(desired(3), observed(2))).toEqual([
    { op: "scale-service", tenantId: T, serviceId: "svc_1", id: "svc", replicas: 3 },
  ]);
  expect(scales(desired(1), observed(2))).toEqual([
    { op: "scale-service", tenantId: T, serviceId: "svc_1", id: "svc", replicas: 1 },
  ]);
});

test("nothing to scale when the counts agree, on one host, or while a deployment has the tenant", () => {
  expect(scales(desired(2), observed(2))).toEqual([]);
  expect(scales(desired(undefined), observed(undefined))).toEqual([]);
  expect(scales(desired(3, true), observed(2))).toEqual([]);
});
