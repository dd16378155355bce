// Routes follow Swarm's tasks: which manager events re-plan which tenants, and the per-tenant burst of re-plans
// (restarted by a new event, never two waiting in a tenant's lane).
import { describe, expect, test } from "bun:test";
import { eventTarget, tenantsOfServices } from "../../../src/runtime/swarm-events.ts";
import { createFollower, FOLLOW_UP_SEC } from "../../../src/core/deploy/route-follow.ts";

describe("swarm events to tenants", () => {
  test("a node going down, drained or removed points at the node; a label edit or its own heartbeat does not", () => {
    const node = (Action: string, Attributes: Record<string, string>) => ({
      Type: "node",
      Action,
      Actor: { ID: "n1", Attributes },
    });
    expect(eventTarget(node("update", { name: "w1", "state.old": "ready", "state.new": "down" }))).toEqual({ nodeId: "n1" });
    expect(eventTarget(node("update", { name: "w1", "availability.old": "active", "availability.new": "drain" }))).toEqual({
      nodeId: "n1",
    });
    expect(eventTarget(node("remove", { name: "w1" }))).toEqual({ nodeId: "n1" });
    expect(eventTarget(node("update", { name: "w1", "label.zone": "a" }))).toBeNull();
    expect(eventTarget(node("create", { name: "w2" }))).toBeNull();
  });
  test("a service updated or removed points at the service; a create is the pipeline's own", () => {
    expect(eventTarget({ Type: "service", Action: "update", Actor: { ID: "s1", Attributes: { name: "x" } } })).toEqual({
      serviceId: "s1",
    });
    expect(eventTarget({ Type: "service", Action: "remove", Actor: { ID: "s1" } })).toEqual({ serviceId: "s1" });
    expect(eventTarget({ Type: "service", Action: "create", Actor: { ID: "s1" } })).toBeNull();
  });
  test("a managed task container's start, death or health names its tenant; others' containers and execs do not", () => {
    const c = (Action: string, Attributes: Record<string, string>) => ({
      Type: "container",
      Action,
      Actor: { ID: "c", Attributes },
    });
    const mine = { "staxa.managed": "1", "staxa.tenant_id": "ten_a" };
    expect(eventTarget(c("die", mine))).toEqual({ tenantId: "ten_a" });
    expect(eventTarget(c("start", mine))).toEqual({ tenantId: "ten_a" });
    expect(eventTarget(c("health_status: unhealthy", mine))).toEqual({ tenantId: "ten_a" });
    expect(eventTarget(c("exec_start: sh", mine))).toBeNull();
    expect(eventTarget(c("die", { "staxa.tenant_id": "ten_a" }))).toBeNull(); // not managed: a stranger's label
    expect(eventTarget(c("die", { "com.example": "1" }))).toBeNull();
    expect(eventTarget({ Type: "network", Action: "connect", Actor: { ID: "x" } })).toBeNull();
  });
  test("services resolve to the tenants of the appliance's services among them, each once", () => {
    const services: Array<{ ID: string; Spec: { Labels?: Record<string, string> } }> = [
      { ID: "s1", Spec: { Labels: { "staxa.managed": "1", "staxa.tenant_id": "ten_a" } } },
      { ID: "s2", Spec: { Labels: { "staxa.managed": "1", "staxa.tenant_id": "ten_a" } } },
      { ID: "s3", Spec: { Labels: { "staxa.managed": "1", "staxa.tenant_id": "ten_b" } } },
      { ID: "s4", Spec: { Labels: { "staxa.tenant_id": "ten_c" } } },
      { ID: "s5", Spec: {} },
    ];
    expect(tenantsOfServices(services, new Set(["s1", "s2", "s4", "s5"]))).toEqual(["ten_a"]);
    expect(tenantsOfServices(services, new Set(["s3"]))).toEqual(["ten_b"]);
    expect(tenantsOfServices(services, new Set(["gone"]))).toEqual([]);
    expect(tenantsOfServices(services).sort()).toEqual(["ten_a", "ten_b"]);
  });
});

describe("follower", () => {
  function fakeTimers() {
    let now = 0;
    const pending = new Map<number, { at: number; fn: () => void }>();
    let n = 0;
    return {
      set: (fn: () => void, ms: number) => {
        pending.set(++n, { at: now + ms, fn });
        return n;
      },
      clear: (h: unknown) => void pending.delete(h as number),
      async advance(ms: number) {
        const until = now + ms;
        for (;;) {
          const next = [...pending.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
          if (!next) break;
          now = next[1].at;
          pending.delete(next[0]);
          next[1].fn();
          await Bun.sleep(0);
        }
        now = until;
      },
      get pending() {
        return pending.size;
      },
    };
  }

  test("an event re-plans its tenant at once and through the burst, then stops", async () => {
    const t = fakeTimers();
    const calls: Array<[string, number]> = [];
    let clock = 0;
    const f = createFollower(async (id) => void calls.push([id, clock]), t);
    f.touch("ten_a");
    for (let s = 0; s <= 60; s++) {
      clock = s;
      await t.advance(s === 0 ? 0 : 1000);
    }
    expect(calls.map(([, at]) => at)).toEqual(FOLLOW_UP_SEC);
    expect(calls.every(([id]) => id === "ten_a")).toBe(true);
    expect(t.pending).toBe(0);
  });
  test("a new event restarts the burst; a re-plan still waiting in the lane is not queued twice", async () => {
    const t = fakeTimers();
    let started = 0;
    let release!: () => void;
    const f = createFollower(() => {
      started++;
      return new Promise<void>((r) => (release = r));
    }, t);
    f.touch("ten_a");
    await t.advance(0);
    expect(started).toBe(1);
    await t.advance(2000); // the first is still waiting: the 2 s one is dropped
    expect(started).toBe(1);
    release();
    await Bun.sleep(0);
    f.touch("ten_a"); // restarts: the earlier burst's timers are gone
    expect(t.pending).toBe(FOLLOW_UP_SEC.length);
    await t.advance(0);
    expect(started).toBe(2);
    f.stop();
    expect(t.pending).toBe(0);
  });
});

describe("a re-plan from the engine's events does not wait in the tenant's lane", () => {
  test("with the lane held (a deployment's tail removing the old service), replanTenant repairs the route at once", async () => {
    const { fakeApp } = await import("../../support/fakes.ts");
    const { replanTenant, reconcileTenant } = await import("../../../src/core/deploy/reconcile.ts");
    const a = await fakeApp();
    const res = await a.call("POST", "/api/v1/tenants", {
      name: "lanefree",
      source_type: "image",
      image_url: "nginx:1",
      app_port: 80,
    });
    expect(res.status).toBe(202);
    await a.idle();
    const id = res.json.data.id as string;
    const route = a.proxy.routes.get("lanefree.web")!;
    a.proxy.routes.set("lanefree.web", { ...route, upstream: "10.9.9.9:80" }); // the tasks moved
    let release = () => {};
    const held = a.ctx.deployer.queue.enqueue(id, () => new Promise<void>((r) => (release = r)));
    const inLane = reconcileTenant(a.deps, id); // behind the held task: still waiting below
    await replanTenant(a.deps, id);
    expect(a.proxy.routes.get("lanefree.web")).toEqual(route);
    expect(a.ctx.deployer.queue.pending(id)).toBe(2);
    release();
    await Promise.all([held, inLane]);
  });
});
