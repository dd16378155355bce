// /metrics: valid Prometheus text (read by a real parser), counters keyed by route template, deploy metrics from the bus.
import { describe, test, expect } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { testApp } from "../../support/ctx.ts";
import { Counter, Gauge, Histogram, Registry } from "../../../src/metrics/registry.ts";
import { createLogger } from "../../../src/lib/log.ts";

type Family = {
  name: string;
  type: string;
  metrics: Array<{
    labels?: Record<string, string>;
    value?: string;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }>;
};

// Elysia runs onAfterResponse after the response is handed back: let it run before reading.
const settle = () => Bun.sleep(10);

/** Last scrape's raw text: the parser flattens labelled histograms, so their _count lines are read here. */
let lastText = "";

async function scrape(
  app: { handle(r: Request): Promise<Response> },
  headers: Record<string, string> = {},
): Promise<Map<string, Family>> {
  await settle();
  const res = await app.handle(new Request("http://localhost/metrics", { headers }));
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
  lastText = await res.text();
  const families = parsePrometheusTextFormat(lastText) as Family[];
  return new Map(families.map((f) => [f.name, f]));
}

/** `<name>_count{...}` of a labelled histogram series whose labels include `labels`, from the last scrape. */
function histCount(name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = lastText.split("\n").find((l) => l.startsWith(`${name}_count{`) && want.every((w) => l.includes(w)));
  return line ? Number(line.split(" ").pop()) : 0;
}

function valueOf(f: Family | undefined, labels: Record<string, string>): number {
  const m = f?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  return m ? Number(m.value ?? m.count ?? 0) : 0;
}

describe("registry exposition", () => {
  test("counters, gauges and histograms render as the parser expects, label values escaped", () => {
    const r = new Registry();
    const c = r.register(new Counter("t_total", "a counter", ["path"]));
    const g = r.register(new Gauge("t_gauge", "a gauge", [], (x) => x.set({}, 42)));
    const h = r.register(new Histogram("t_seconds", "a histogram", [], [0.1, 1]));
    c.inc({ path: 'a"b\\c\nd' }, 2);
    h.observe({}, 0.05);
    h.observe({}, 0.5);
    h.observe({}, 5);
    expect(g.name).toBe("t_gauge");
    const fams = new Map((parsePrometheusTextFormat(r.render()) as Family[]).map((f) => [f.name, f]));
    expect(fams.get("t_total")!.type).toBe("COUNTER");
    expect(fams.get("t_total")!.metrics[0].labels!.path).toBe('a"b\\c\nd');
    expect(fams.get("t_total")!.metrics[0].value).toBe("2");
    expect(fams.get("t_gauge")!.metrics[0].value).toBe("42");
    const hist = fams.get("t_seconds")!.metrics[0];
    expect(hist.buckets).toEqual({ "0.1": "1", "1": "2", "+Inf": "3" });
    expect(hist.count).toBe("3");
    expect(Number(hist.sum)).toBeCloseTo(5.55);
  });

  test("a counter refuses to go down and a name registers once", () => {
    const r = new Registry();
    const c = r.register(new Counter("x_total", "x"));
    expect(() => c.inc({}, -1)).toThrow();
    expect(() => r.register(new Counter("x_total", "x"))).toThrow(/twice/);
  });
});

describe("GET /metrics", () => {
  test("request counters move, keyed by the route template, not the raw path", async () => {
    const { app, call } = testApp();
    const before = await scrape(app);
    const route = "/api/v1/tenants/:id";
    const n0 = valueOf(before.get("staxa_http_requests_total"), { route, status: "404" });
    await call("GET", "/api/v1/tenants/ten_doesnotexist1");
    await call("GET", "/api/v1/tenants/ten_doesnotexist2");
    await call("GET", "/no/such/path/at/all");
    const after = await scrape(app);
    const reqs = after.get("staxa_http_requests_total")!;
    expect(reqs.type).toBe("COUNTER");
    expect(valueOf(reqs, { route, status: "404" })).toBe(n0 + 2);
    expect(reqs.metrics.some((m) => m.labels?.route?.includes("ten_doesnotexist"))).toBe(false);
    expect(reqs.metrics.some((m) => m.labels?.route?.includes("/no/such"))).toBe(false);
    // The unknown path is counted too, under a template ("/*" fallback or "unmatched"), never under itself.
    const all404 = (f: Family | undefined) =>
      (f?.metrics ?? []).filter((m) => m.labels?.status === "404").reduce((n, m) => n + Number(m.value), 0);
    expect(all404(reqs) - all404(before.get("staxa_http_requests_total"))).toBe(3);
    expect(after.get("staxa_http_request_duration_seconds")!.type).toBe("HISTOGRAM");
    expect(histCount("staxa_http_request_duration_seconds", { method: "GET", route })).toBeGreaterThanOrEqual(2);
  });

  test("tenants by status are counted at scrape time; the deploy queue reports its depth", async () => {
    const { app, ctx, provider } = testApp();
    const now = new Date().toISOString();
    const ins = ctx.db
      .query(`INSERT INTO tenants (id, provider_id, mode, name, status, branch, resource_size, egress_mode, created_at, updated_at)
                               VALUES (?, ?, ?, ?, ?, 'main', 'small', 'open', ?, ?)`);
    ins.run("ten_m1", provider.id, "live", "metrics-a", "ready", now, now);
    ins.run("ten_m2", provider.id, "live", "metrics-b", "ready", now, now);
    ins.run("ten_m3", provider.id, "test", "metrics-c", "failed", now, now);
    let release!: () => void;
    ctx.deployer.queue.holdUntil(new Promise<void>((r) => (release = r)));
    for (const lane of ["ten_m1", "ten_m1", "ten_m2"]) void ctx.deployer.queue.enqueue(lane, async () => {});
    const fams = await scrape(app);
    expect(valueOf(fams.get("staxa_tenants"), { status: "ready", mode: "live" })).toBe(2);
    expect(valueOf(fams.get("staxa_tenants"), { status: "failed", mode: "test" })).toBe(1);
    expect(valueOf(fams.get("staxa_deploy_queue_depth"), {})).toBe(3);
    release();
    await ctx.deployer.queue.idle();
    expect(valueOf((await scrape(app)).get("staxa_deploy_queue_depth"), {})).toBe(0);
  });

  test("deployments by result and stage durations come from bus notifications", async () => {
    const { app, ctx, provider } = testApp();
    const now = new Date().toISOString();
    ctx.db
      .query(
        `INSERT INTO tenants (id, provider_id, mode, name, status, branch, resource_size, egress_mode, created_at, updated_at)
                  VALUES ('ten_d1', ?, 'live', 'metrics-dep', 'ready', 'main', 'small', 'open', ?, ?)`,
      )
      .run(provider.id, now, now);
    ctx.db
      .query(
        `INSERT INTO services (id, tenant_id, name, source_type, branch, is_primary, is_routable, resource_size, status, created_at, updated_at)
                  VALUES ('svc_d1', 'ten_d1', 'web', 'image', 'main', 1, 1, 'small', 'running', ?, ?)`,
      )
      .run(now, now);
    ctx.db
      .query(
        `INSERT INTO deployments (id, tenant_id, service_id, service_name, status, timings, created_at)
                  VALUES ('dep_d1', 'ten_d1', 'svc_d1', 'web', 'succeeded', '{"build_ms":2500,"deploy_ms":700,"total_ms":4000}', ?)`,
      )
      .run(now);
    await scrape(app);
    const stage = (s: string) => histCount("staxa_deploy_stage_duration_seconds", { stage: s });
    const [build0, total0] = [stage("build"), stage("total")];
    const before = await scrape(app);
    const base = { provider_id: provider.id, mode: "live" as const, tenant_id: "ten_d1" };
    ctx.bus.notify({ ...base, event: "deployment.started", data: { deployment_id: "dep_d1" } });
    ctx.bus.notify({ ...base, event: "deployment.succeeded", data: { deployment_id: "dep_d1" } });
    ctx.bus.notify({ ...base, event: "deployment.failed", data: { deployment_id: "dep_nope" } });
    const after = await scrape(app);
    const d = (f: Map<string, Family>, result: string) => valueOf(f.get("staxa_deployments_total"), { result });
    expect(d(after, "started") - d(before, "started")).toBe(1);
    expect(d(after, "succeeded") - d(before, "succeeded")).toBe(1);
    expect(d(after, "failed") - d(before, "failed")).toBe(1);
    expect(stage("build") - build0).toBe(1);
    expect(stage("total") - total0).toBe(1);
  });

  test("with STAXA_METRICS_TOKEN set, /metrics needs the bearer token", async () => {
    const { app } = testApp({}, { STAXA_METRICS_TOKEN: "scrape-secret-1" });
    expect((await app.handle(new Request("http://localhost/metrics"))).status).toBe(401);
    const fams = await scrape(app, { authorization: "Bearer scrape-secret-1" });
    expect(fams.has("staxa_http_requests_total")).toBe(true);
  });

  test("each request logs one JSON line with method, route, status, duration and request id", async () => {
    const lines: string[] = [];
    const { call } = testApp({ log: createLogger("info", (l) => lines.push(l)) });
    const res = await call("GET", "/api/v1/tenants/ten_x", undefined, { "x-request-id": "req_fromclient01" });
    expect(res.status).toBe(404);
    await settle();
    const entry = lines.map((l) => JSON.parse(l)).find((e) => e.msg === "request" && e.request_id === "req_fromclient01");
    expect(entry).toMatchObject({ level: "info", method: "GET", route: "/api/v1/tenants/:id", status: 404 });
    expect(typeof entry.duration_ms).toBe("number");
    expect(JSON.stringify(lines)).not.toContain("Bearer");
  });
});
