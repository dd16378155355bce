// The appliance's own metrics: one set per context, built by the composition root and rendered at GET /metrics.
import type { EventBus, Notification } from "../events/bus.ts";
import type { Db } from "../store/db.ts";
import { deploymentTimings, tenantCountsByStatus } from "../store/metrics.ts";
import { Counter, Gauge, Histogram, Registry } from "./registry.ts";

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DEPLOY_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 1200];

export class ApplianceMetrics {
  readonly registry = new Registry();
  readonly httpRequests = this.registry.register(
    new Counter("staxa_http_requests_total", "HTTP requests by method, matched route template and status", [
      "method",
      "route",
      "status",
    ]),
  );
  readonly httpDuration = this.registry.register(
    new Histogram(
      "staxa_http_request_duration_seconds",
      "HTTP request durations by method and route template",
      ["method", "route"],
      HTTP_BUCKETS,
    ),
  );
  readonly deploymentsTotal = this.registry.register(
    new Counter("staxa_deployments_total", "Deployments by result (started, succeeded, failed)", ["result"]),
  );
  readonly deployStageDuration = this.registry.register(
    new Histogram(
      "staxa_deploy_stage_duration_seconds",
      "Deployment durations by pipeline stage (total: the whole deployment)",
      ["stage"],
      DEPLOY_BUCKETS,
    ),
  );
  /** Set by the deploy queue (core/deploy/queue.ts) whenever the count changes. */
  readonly queueDepth = this.registry.register(
    new Gauge(
      "staxa_deploy_queue_depth",
      "Deployments and cleanups waiting to start: behind earlier work of their tenant or for a build slot",
    ),
  );
  /** Set by the disk guard (core/deploy/disk.ts) and the images job (core/deploy/retention.ts). */
  readonly diskFree = this.registry.register(
    new Gauge(
      "staxa_disk_free_bytes",
      "Free bytes on Docker's data root (what=docker) and on the data dir (what=data), at the last check",
      ["what"],
    ),
  );
  readonly diskLow = this.registry.register(
    new Gauge("staxa_disk_low", "1 while free space is below STAXA_MIN_FREE_DISK_MB: new builds are refused"),
  );
  readonly engineDisk = this.registry.register(
    new Gauge(
      "staxa_engine_disk_bytes",
      "Docker images (kind=images) and build cache (kind=build_cache: dangling images and BuildKit) on disk, at the last images job",
      ["kind"],
    ),
  );
  readonly imagesRemoved = this.registry.register(
    new Counter("staxa_images_removed_total", "Image tags removed by retention and deletions"),
  );

  /** `db` is the store the tenant gauge counts at scrape time. */
  constructor(private readonly db: Db) {
    this.registry.register(
      new Gauge("staxa_process_resident_memory_bytes", "Resident memory of the appliance process", [], (g) =>
        g.set({}, process.memoryUsage().rss),
      ),
    );
    this.registry.register(
      new Gauge("staxa_uptime_seconds", "Seconds since the appliance process started", [], (g) => g.set({}, process.uptime())),
    );
    this.registry.register(
      new Gauge("staxa_tenants", "Tenants by status and mode (queried at scrape time)", ["status", "mode"], (g) => {
        g.reset();
        for (const r of tenantCountsByStatus(this.db)) g.set({ status: r.status, mode: r.mode }, r.count);
      }),
    );
  }

  /** Counts deployments by result and their stage durations from the bus's notifications; returns the unsubscribe. */
  watch(bus: EventBus): () => void {
    return bus.onNotification((n) => this.record(n));
  }

  private record(n: Notification): void {
    if (n.event === "deployment.started") this.deploymentsTotal.inc({ result: "started" });
    if (n.event !== "deployment.succeeded" && n.event !== "deployment.failed") return;
    this.deploymentsTotal.inc({ result: n.event === "deployment.succeeded" ? "succeeded" : "failed" });
    const depId = typeof n.data.deployment_id === "string" ? n.data.deployment_id : undefined;
    if (!depId) return;
    // The pipeline records `<stage>_ms` timings on the row before it notifies.
    for (const [key, ms] of Object.entries(deploymentTimings(this.db, n.tenant_id, depId))) {
      const stage = /^([a-z_]+)_ms$/.exec(key)?.[1];
      if (stage && typeof ms === "number" && Number.isFinite(ms)) this.deployStageDuration.observe({ stage }, ms / 1000);
    }
  }
}
