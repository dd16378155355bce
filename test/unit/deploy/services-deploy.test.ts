// Deploy-all over the fakes: the order (dependencies, stateful first, priority), stop at the first failure
// naming the service, volume services replaced stop-then-start, and the per-provider bound on open streams.
import { describe, expect, test } from "bun:test";
import { fakeApp } from "../../support/fakes.ts";
import { deployOrder, isStateful } from "../../../src/core/deploy/group.ts";
import { imageBaseName } from "../../../src/lib/image-ref.ts";
import { StreamSlots } from "../../../src/api/stream-slots.ts";

const svc = (
  name: string,
  o: { priority?: number; depends_on?: string[]; image_url?: string | null; volumes?: unknown[] } = {},
) => ({
  name,
  priority: o.priority ?? 0,
  depends_on: JSON.stringify(o.depends_on ?? []),
  image_url: o.image_url ?? null,
  volumes: JSON.stringify(o.volumes ?? []),
});
const img = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  source_type: "image",
  image_url: `example/${name}:1`,
  port: 8080,
  ...extra,
});

describe("deployOrder", () => {
  const cases: Array<[string, ReturnType<typeof svc>[], string[]]> = [
    ["given order when nothing differs", [svc("a"), svc("b"), svc("c")], ["a", "b", "c"]],
    [
      "stateful image first",
      [
        svc("web"),
        svc("cache", { image_url: "redis:7-alpine" }),
        svc("db", { image_url: "registry.example:5000/team/postgres:16@sha256:" + "a".repeat(64) }),
      ],
      ["cache", "db", "web"],
    ],
    [
      "a service with a volume is stateful",
      [svc("web"), svc("files", { image_url: "example/minio-like:1", volumes: [{ name: "x", target: "/x" }] })],
      ["files", "web"],
    ],
    [
      "dependencies before dependents, even against priority",
      [svc("web", { priority: 0, depends_on: ["api"] }), svc("api", { priority: 9 })],
      ["api", "web"],
    ],
    [
      "dependencies before stateful preference",
      [svc("db", { image_url: "postgres:16", depends_on: ["init"] }), svc("init")],
      ["init", "db"],
    ],
    [
      "then lower priority first",
      [svc("b", { priority: 2 }), svc("a", { priority: 1 }), svc("c", { priority: 3 })],
      ["a", "b", "c"],
    ],
    [
      "a diamond",
      [
        svc("web", { depends_on: ["api", "worker"] }),
        svc("worker", { depends_on: ["db"] }),
        svc("api", { depends_on: ["db"] }),
        svc("db"),
      ],
      ["db", "worker", "api", "web"],
    ],
    [
      "a cycle (old rows) still yields every service once",
      [svc("a", { depends_on: ["b"] }), svc("b", { depends_on: ["a"] })],
      ["a", "b"],
    ],
  ];
  test.each(cases)("%s", (_l, input, want) => {
    expect(deployOrder(input).map((s) => s.name)).toEqual(want);
  });

  test("imageBaseName and isStateful", () => {
    expect(imageBaseName("localhost:5000/a/b/MySQL:8")).toBe("mysql");
    expect(imageBaseName("mongo")).toBe("mongo");
    expect(isStateful({ image_url: "example/web:1", volumes: "[]" })).toBe(false);
    expect(isStateful({ image_url: "bitnami/postgresql:16", volumes: "[]" })).toBe(true);
  });
});

describe("POST /tenants/{id}/deploy", () => {
  const body = {
    name: "shop",
    services: [
      img("web", { is_routable: true, depends_on: ["api"] }),
      img("api", { is_routable: true, depends_on: ["db"] }),
      img("worker", { priority: 5 }),
      img("db", { image_url: "postgres:16", port: 5432, volumes: [{ name: "data", mount_path: "/data" }] }),
    ],
  };

  test("202 with the services in deploy order; each healthy before the next starts", async () => {
    const a = await fakeApp();
    const id = (await a.call("POST", "/api/v1/tenants", body)).json.data.id;
    await a.idle();
    const r = await a.call("POST", `/api/v1/tenants/${id}/deploy`);
    expect(r.status).toBe(202);
    expect(r.json.data).toEqual({ tenant_id: id, status: "deploying", services: ["db", "api", "web", "worker"] });
    await a.idle();
    const ev = a.ctx.db
      .query(
        "SELECT service_name, stage, status FROM events WHERE tenant_id = ? AND deployment_id IN (SELECT id FROM deployments WHERE trigger = 'api') ORDER BY id",
      )
      .all(id) as any[];
    // one service's events end (ready) before the next one's deploy stage starts
    const started = ev.filter((e) => e.stage === "deploy" && e.status === "running").map((e) => e.service_name);
    expect([...new Set(started)]).toEqual(["db", "api", "web", "worker"]);
    const firstDeployOf = (s: string) => ev.findIndex((e) => e.service_name === s && e.stage === "deploy");
    const readyOf = (s: string) => ev.findIndex((e) => e.service_name === s && e.stage === "ready");
    expect(readyOf("db")).toBeLessThan(firstDeployOf("api"));
    expect(readyOf("api")).toBeLessThan(firstDeployOf("web"));
  });

  test("a failing service stops the rest; the error events name it; nothing after it starts", async () => {
    const a = await fakeApp();
    const id = (await a.call("POST", "/api/v1/tenants", body)).json.data.id;
    await a.idle();
    const before = a.runtime
      .running()
      .map((c) => c.id)
      .sort();
    a.runtime.behaviour = (spec) =>
      spec.labels["staxa.service"] === "api" ? { running: false, exitCode: 2, logs: ["boom"] } : {};
    const r = await a.call("POST", `/api/v1/tenants/${id}/deploy`);
    await a.idle();
    const deps = a.ctx.db
      .query(
        "SELECT service_name, status, reason FROM deployments WHERE id IN (" +
          r.json.meta.deployment_ids.map(() => "?").join(",") +
          ") ORDER BY rowid",
      )
      .all(...r.json.meta.deployment_ids) as any[];
    expect(deps.map((d) => [d.service_name, d.status])).toEqual([
      ["db", "succeeded"],
      ["api", "failed"],
      ["web", "failed"],
      ["worker", "failed"],
    ]);
    expect(deps[2].reason).toContain(`service "api" failed`);
    const errs = a.ctx.db
      .query("SELECT service_name, data FROM events WHERE tenant_id = ? AND stage = 'error' ORDER BY id")
      .all(id) as any[];
    expect(errs[0].service_name).toBe("api");
    expect(errs.slice(1).map((e) => [e.service_name, JSON.parse(e.data).failed_service])).toEqual([
      ["web", "api"],
      ["worker", "api"],
    ]);
    // web and worker kept their old containers; no new container was started for them
    const now = a.runtime.running().filter((c) => ["web", "worker"].includes(c.labels["staxa.service"]));
    expect(now.every((c) => before.includes(c.id))).toBe(true);
  });

  test("on create, a failing dependency leaves its dependents unstarted", async () => {
    const a = await fakeApp();
    a.runtime.behaviour = (spec) => (spec.labels["staxa.service"] === "db" ? { running: false, exitCode: 1 } : {});
    const id = (await a.call("POST", "/api/v1/tenants", body)).json.data.id;
    await a.idle();
    expect(a.runtime.running().map((c) => c.labels["staxa.service"])).toEqual([]);
    const t = (await a.call("GET", `/api/v1/tenants/${id}`)).json.data;
    expect(t.status).toBe("failed");
  });

  test("a service with a volume is replaced stop-then-start, and keeps its volume", async () => {
    const a = await fakeApp();
    const id = (await a.call("POST", "/api/v1/tenants", body)).json.data.id;
    await a.idle();
    const oldDb = a.runtime.running().find((c) => c.labels["staxa.service"] === "db")!.id;
    const r = await a.call("POST", `/api/v1/tenants/${id}/services/db/deploy`);
    await a.idle();
    const ev = a.ctx.db.query("SELECT message FROM events WHERE deployment_id = ? ORDER BY id").all(r.json.data.id) as any[];
    const stopAt = ev.findIndex((e) => e.message.startsWith("Stopping the running container first"));
    const startAt = ev.findIndex((e) => e.message.startsWith("Starting "));
    expect(stopAt).toBeGreaterThan(-1);
    expect(stopAt).toBeLessThan(startAt);
    expect(a.runtime.removed).toContain(oldDb);
    expect(a.runtime.volumes).toEqual(new Set(["staxa-shop.db.data"]));
    const dbs = a.runtime.running().filter((c) => c.labels["staxa.service"] === "db");
    expect(dbs).toHaveLength(1);
    expect(a.runtime.containers.get(dbs[0].id)!.spec.volumes).toEqual([{ name: "staxa-shop.db.data", target: "/data" }]);
  });

  test("deleting the tenant removes every service's volume", async () => {
    const a = await fakeApp();
    const id = (await a.call("POST", "/api/v1/tenants", body)).json.data.id;
    await a.idle();
    expect(a.runtime.volumes.size).toBe(1);
    await a.call("DELETE", `/api/v1/tenants/${id}`);
    await a.idle();
    expect(a.runtime.volumes.size).toBe(0);
  });
});

describe("bounded streams", () => {
  test("StreamSlots: N per provider and kind, released once", () => {
    const s = new StreamSlots(2);
    const r1 = s.acquire("p", "events");
    s.acquire("p", "events");
    expect(() => s.acquire("p", "events")).toThrow("At most 2 concurrent event streams");
    s.acquire("p", "logs");
    s.acquire("q", "events");
    r1();
    r1();
    expect(s.count("p", "events")).toBe(1);
    s.acquire("p", "events");
  });

  test("event streams and service log follows over the limit get 429; a closed one frees its slot", async () => {
    const a = await fakeApp({ STAXA_SSE_MAX_PER_PROVIDER: "2" });
    const id = (await a.call("POST", "/api/v1/tenants", { name: "logs", services: [img("web", { is_routable: true })] })).json
      .data.id;
    await a.idle();
    const open = (path: string, ac: AbortController) =>
      a.app.handle(
        new Request(`http://localhost/api/v1/tenants/${id}${path}`, {
          headers: { authorization: `Bearer ${a.key}` },
          signal: ac.signal,
        }),
      );
    const acs = [new AbortController(), new AbortController()];
    const s1 = await open("/events?follow=true", acs[0]);
    await open("/events?follow=true", acs[1]);
    const third = await open("/events?follow=true", new AbortController());
    expect(third.status).toBe(429);
    expect((await third.json()).error.details).toMatchObject({ limit: 2, stream: "events" });
    const l1 = await open("/services/web/logs?follow=true", new AbortController());
    expect(l1.status).toBe(200);
    expect(l1.headers.get("content-type")).toBe("text/event-stream");
    const reader = l1.body!.getReader();
    let text = "";
    while (!text.includes("data: listening")) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain("data: listening\n\n");
    await open("/services/web/logs?follow=true", new AbortController());
    expect((await open("/services/web/logs?follow=true", new AbortController())).status).toBe(429);
    await s1.body!.cancel();
    acs[1].abort();
    await Bun.sleep(10);
    const again = await open("/events?follow=true", new AbortController());
    expect(again.status).toBe(200);
    await again.body!.cancel();
    await reader.cancel();
  });
});
