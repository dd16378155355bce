// Metrics registry (counters, gauges, histograms) with Prometheus text exposition, and the appliance's own metrics.
import type { EventBus, Notification } from "../events/bus.ts";
import type { Db } from "../store/db.ts";
import { deploymentTimings, tenantCountsByStatus } from "../store/metrics.ts";

type Labels = Record<string, string>;

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const fmt = (n: number) => (n === Infinity ? "+Inf" : n === -Infinity ? "-Inf" : Number.isNaN(n) ? "NaN" : String(n));

function labelText(names: readonly string[], values: readonly string[], extra = ""): string {
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i] ?? "")}"`);
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(",")}}` : "";
}

/** One metric family: its series keyed by label values in `labelNames` order. */
abstract class Family<S> {
  protected readonly series = new Map<string, { values: string[]; state: S }>();
  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[], readonly type: string) {}

  // Runs on every request (HTTP metrics): the key is built without intermediate arrays.
  protected at(labels: Labels, init: () => S): S {
    const names = this.labelNames;
    let key = "";
    for (let i = 0; i < names.length; i++) key += (i ? "\u0000" : "") + (labels[names[i]] ?? "");
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { values: names.map((n) => labels[n] ?? ""), state: init() }));
    return s.state;
  }

  render(): string {
    return [`# HELP ${this.name} ${this.help.replace(/\n/g, " ")}`, `# TYPE ${this.name} ${this.type}`, ...this.lines()].join("\n");
  }

  protected abstract lines(): string[];
}

export class Counter extends Family<{ v: number }> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, labelNames, "counter");
  }
  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new Error("a counter only goes up");
    this.at(labels, () => ({ v: 0 })).v += by;
  }
  get(labels: Labels = {}): number {
    return this.at(labels, () => ({ v: 0 })).v;
  }
  /** The series of `labels`, resolved once: for callers that count the same series on a hot path. */
  child(labels: Labels = {}): { inc(by?: number): void } {
    const state = this.at(labels, () => ({ v: 0 }));
    return {
      inc(by = 1) {
        if (by < 0) throw new Error("a counter only goes up");
        state.v += by;
      },
    };
  }
  protected lines(): string[] {
    return [...this.series.values()].map((s) => `${this.name}${labelText(this.labelNames, s.values)} ${fmt(s.state.v)}`);
  }
}

export class Gauge extends Family<{ v: number }> {
  /** `collect`, when given, refreshes the gauge at scrape time. */
  constructor(name: string, help: string, labelNames: readonly string[] = [], private readonly collect?: (g: Gauge) => void) {
    super(name, help, labelNames, "gauge");
  }
  set(labels: Labels, v: number): void {
    this.at(labels, () => ({ v: 0 })).v = v;
  }
  reset(): void {
    this.series.clear();
  }
  override render(): string {
    this.collect?.(this);
    return super.render();
  }
  protected lines(): string[] {
    return [...this.series.values()].map((s) => `${this.name}${labelText(this.labelNames, s.values)} ${fmt(s.state.v)}`);
  }
}

export class Histogram extends Family<{ counts: number[]; sum: number; count: number }> {
  constructor(name: string, help: string, labelNames: readonly string[], readonly buckets: readonly number[]) {
    super(name, help, labelNames, "histogram");
  }
  observe(labels: Labels, v: number): void {
    this.record(this.at(labels, () => this.empty()), v);
  }
  /** The series of `labels`, resolved once: for callers that observe the same series on a hot path. */
  child(labels: Labels): { observe(v: number): void } {
    const state = this.at(labels, () => this.empty());
    return { observe: (v) => this.record(state, v) };
  }
  private empty() {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }
  // counts[i] holds the observations whose smallest bucket is i; render() accumulates them.
  private record(s: { counts: number[]; sum: number; count: number }, v: number): void {
    const b = this.buckets;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]) {
        s.counts[i]++;
        break;
      }
    }
    s.sum += v;
    s.count++;
  }
  protected lines(): string[] {
    const out: string[] = [];
    for (const { values, state } of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket${labelText(this.labelNames, values, `le="${fmt(b)}"`)} ${(cumulative += state.counts[i])}`));
      out.push(`${this.name}_bucket${labelText(this.labelNames, values, 'le="+Inf"')} ${state.count}`);
      out.push(`${this.name}_sum${labelText(this.labelNames, values)} ${fmt(state.sum)}`);
      out.push(`${this.name}_count${labelText(this.labelNames, values)} ${state.count}`);
    }
    return out;
  }
}

/** A set of metric families rendered together in the Prometheus text format (version 0.0.4). */
export class Registry {
  private readonly families = new Map<string, Family<unknown>>();
  register<F extends Family<any>>(f: F): F {
    if (this.families.has(f.name)) throw new Error(`metric ${f.name} registered twice`);
    this.families.set(f.name, f as Family<unknown>);
    return f;
  }
  render(): string {
    return [...this.families.values()].map((f) => f.render()).join("\n\n") + "\n";
  }
}

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DEPLOY_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 1200];

/** The appliance's metrics, process-wide (one appliance per process; tests read deltas). */
export const registry = new Registry();
export const httpRequests = registry.register(new Counter("staxa_http_requests_total", "HTTP requests by method, matched route template and status", ["method", "route", "status"]));
export const httpDuration = registry.register(new Histogram("staxa_http_request_duration_seconds", "HTTP request durations by method and route template", ["method", "route"], HTTP_BUCKETS));
export const deploymentsTotal = registry.register(new Counter("staxa_deployments_total", "Deployments by result (started, succeeded, failed)", ["result"]));
export const deployStageDuration = registry.register(new Histogram("staxa_deploy_stage_duration_seconds", "Deployment durations by pipeline stage (total: the whole deployment)", ["stage"], DEPLOY_BUCKETS));
const queueDepth = registry.register(new Gauge("staxa_deploy_queue_depth", "Deployments waiting for a build slot"));
registry.register(new Gauge("staxa_process_resident_memory_bytes", "Resident memory of the appliance process", [], (g) => g.set({}, process.memoryUsage().rss)));
const startedAt = Date.now();
registry.register(new Gauge("staxa_uptime_seconds", "Seconds since the appliance process started", [], (g) => g.set({}, (Date.now() - startedAt) / 1000)));

let tenantsDb: Db | undefined;
registry.register(new Gauge("staxa_tenants", "Tenants by status and mode (queried at scrape time)", ["status", "mode"], (g) => {
  g.reset();
  if (tenantsDb) for (const r of tenantCountsByStatus(tenantsDb)) g.set({ status: r.status, mode: r.mode }, r.count);
}));

/** Called by the deploy queue whenever its length changes. */
export function setQueueDepth(n: number): void {
  queueDepth.set({}, n);
}

const watched = new WeakSet<EventBus>();

/** Counts deployments by result and their stage durations from the bus; points the tenant gauge at `db`. Idempotent per bus. */
export function watchDeployments(bus: EventBus, db: Db): void {
  tenantsDb = db;
  if (watched.has(bus)) return;
  watched.add(bus);
  bus.onNotification((n) => recordNotification(db, n));
}

function recordNotification(db: Db, n: Notification): void {
  if (n.event === "deployment.started") deploymentsTotal.inc({ result: "started" });
  if (n.event !== "deployment.succeeded" && n.event !== "deployment.failed") return;
  deploymentsTotal.inc({ result: n.event === "deployment.succeeded" ? "succeeded" : "failed" });
  const depId = typeof n.data.deployment_id === "string" ? n.data.deployment_id : undefined;
  if (!depId) return;
  // The pipeline records `<stage>_ms` timings on the row before it notifies.
  for (const [key, ms] of Object.entries(deploymentTimings(db, n.tenant_id, depId))) {
    const stage = /^([a-z_]+)_ms$/.exec(key)?.[1];
    if (stage && typeof ms === "number" && Number.isFinite(ms)) deployStageDuration.observe({ stage }, ms / 1000);
  }
}
