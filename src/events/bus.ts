// The event bus: pipeline events are persisted (monotonic id) then fanned out to live subscribers;
// domain notifications (tenant.ready, deployment.failed, ...) go to webhook/metrics listeners.
import type { Db } from "../store/db.ts";
import * as events from "../store/events.ts";
import { nowIso } from "../lib/ids.ts";

export type Stage = "provision" | "build" | "deploy" | "route" | "health" | "ready" | "error" | "delete" | "info";

export interface PipelineEvent {
  id: number;
  tenant_id: string;
  deployment_id: string | null;
  service: string | null;
  stage: Stage | string;
  status: string;
  message: string;
  data: Record<string, unknown> | null;
  timestamp: string;
}

/** Planned webhook event names of the reference. */
export type NotificationName =
  "tenant.ready" | "tenant.failed" | "tenant.deleted" | "deployment.started" | "deployment.succeeded" | "deployment.failed";

export interface Notification {
  event: NotificationName;
  provider_id: string;
  mode: "live" | "test";
  tenant_id: string;
  data: Record<string, unknown>;
  timestamp: string;
}

type Listener<T> = (value: T) => void;

export function toPipelineEvent(r: events.EventRow): PipelineEvent {
  return {
    id: r.id,
    tenant_id: r.tenant_id,
    deployment_id: r.deployment_id,
    service: r.service_name,
    stage: r.stage,
    status: r.status,
    message: r.message,
    data: r.data ? JSON.parse(r.data) : null,
    timestamp: r.created_at,
  };
}

export class EventBus {
  private readonly subscribers = new Map<string, Set<Listener<PipelineEvent>>>();
  private readonly notificationListeners = new Set<Listener<Notification>>();

  constructor(private readonly db: Db) {}

  /** Persists a pipeline event and delivers it to the tenant's live subscribers. */
  emit(e: {
    tenantId: string;
    deploymentId?: string | null;
    service?: string | null;
    stage: Stage | string;
    status?: string;
    message: string;
    data?: Record<string, unknown>;
  }): PipelineEvent {
    const row: events.NewEvent = {
      tenant_id: e.tenantId,
      deployment_id: e.deploymentId ?? null,
      service_name: e.service ?? null,
      stage: e.stage,
      status: e.status ?? "info",
      message: e.message,
      data: e.data ? JSON.stringify(e.data) : null,
      created_at: nowIso(),
    };
    const id = events.insert(this.db, row);
    const evt = toPipelineEvent({ id, ...row });
    for (const fn of this.subscribers.get(e.tenantId) ?? []) {
      try {
        fn(evt);
      } catch {
        // a broken subscriber must not break the pipeline
      }
    }
    return evt;
  }

  /** Live events of one tenant; returns the unsubscribe function. */
  subscribe(tenantId: string, fn: Listener<PipelineEvent>): () => void {
    let set = this.subscribers.get(tenantId);
    if (!set) this.subscribers.set(tenantId, (set = new Set()));
    set.add(fn);
    return () => {
      set!.delete(fn);
      if (set!.size === 0) this.subscribers.delete(tenantId);
    };
  }

  /** Persisted events after `afterId`, for SSE replay (Last-Event-ID). */
  since(tenantId: string, afterId: number): PipelineEvent[] {
    return events.listSince(this.db, tenantId, afterId).map(toPipelineEvent);
  }

  recent(tenantId: string, limit = 200): PipelineEvent[] {
    return events.listRecent(this.db, tenantId, limit).map(toPipelineEvent);
  }

  /** Publishes a domain notification to listeners (webhooks, metrics). Never throws. */
  notify(n: Omit<Notification, "timestamp">): void {
    const full = { ...n, timestamp: nowIso() };
    for (const fn of this.notificationListeners) {
      try {
        fn(full);
      } catch {
        // listeners own their failures
      }
    }
  }

  onNotification(fn: Listener<Notification>): () => void {
    this.notificationListeners.add(fn);
    return () => this.notificationListeners.delete(fn);
  }
}
