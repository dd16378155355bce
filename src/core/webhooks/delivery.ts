// Webhook delivery: notifications become persisted delivery rows; a worker sends due rows, signed,
// with bounded concurrency, a timeout and exponential backoff over more than a day; it resumes after restarts.
import type { Ctx } from "../context.ts";
import type { Notification } from "../../events/bus.ts";
import * as hooks from "../../store/webhooks.ts";
import * as deliveries from "../../store/webhook-deliveries.ts";
import { newId, nowIso } from "../../lib/ids.ts";
import { safeFetch } from "../../lib/ssrf.ts";
import { signPayload } from "./signature.ts";
import { outboundOptions } from "./webhooks.ts";

/** Waits after attempt n (1-based) failed; 10 attempts spread over ~29 h (jitter only adds). */
export const BACKOFF_SEC = [30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200];
export const MAX_ATTEMPTS = BACKOFF_SEC.length + 1;
const TIMEOUT_MS = 10_000;
// 16 sockets at most; 2 per webhook, so a few hanging receivers cannot starve the others.
const MAX_IN_FLIGHT = 16;
const MAX_IN_FLIGHT_PER_WEBHOOK = 2;
const POLL_MS = 500;

/** Delay before the next attempt after `attempts` failures: base * (1 + up to 25% jitter) / divisor. */
export function backoffMs(attempts: number, divisor = 1, random = Math.random): number {
  const base = BACKOFF_SEC[Math.min(attempts, BACKOFF_SEC.length) - 1] * 1000;
  return Math.round((base * (1 + random() * 0.25)) / divisor);
}

/** Writes one pending delivery per active webhook subscribed to the event. Sync and local: notify() stays instant. */
export function enqueue(ctx: Pick<Ctx, "db" | "now">, n: Notification): string[] {
  const targets = hooks
    .listActive(ctx.db, n.provider_id, n.mode)
    .filter((h) => (JSON.parse(h.events) as string[]).includes(n.event));
  if (targets.length === 0) return [];
  const payload = JSON.stringify({
    id: newId("evt"),
    event: n.event,
    tenant_id: n.tenant_id,
    data: n.data,
    timestamp: n.timestamp,
  });
  const eventId = JSON.parse(payload).id as string;
  const now = ctx.now();
  const ids: string[] = [];
  ctx.db.transaction(() => {
    for (const h of targets) {
      const id = newId("whd");
      deliveries.insert(ctx.db, {
        id,
        webhook_id: h.id,
        event_id: eventId,
        event: n.event,
        payload,
        status: "pending",
        attempts: 0,
        next_attempt_at: now.toISOString(),
        last_status_code: null,
        last_error: null,
        created_at: nowIso(now),
        delivered_at: null,
      });
      ids.push(id);
    }
  })();
  return ids;
}

/** One attempt: sign, POST to the checked address, record the outcome. Never throws. */
export async function attempt(ctx: Ctx, row: deliveries.DeliveryRow): Promise<void> {
  const hook = hooks.findById(ctx.db, row.webhook_id);
  if (!hook) return; // deleted meanwhile: its deliveries went with it (ON DELETE CASCADE)
  const attempts = row.attempts + 1;
  if (hook.active !== 1) {
    deliveries.update(ctx.db, row.id, { status: "failed", attempts: row.attempts, last_error: "webhook disabled" });
    return;
  }
  let code: number | null = null;
  let error: string | null = null;
  try {
    const secret = ctx.box.open(hook.secret_enc);
    const res = await safeFetch(
      hook.url,
      {
        method: "POST",
        body: row.payload,
        headers: {
          "content-type": "application/json",
          "user-agent": "Staxa-Webhooks/1",
          "staxa-signature": signPayload(secret, row.payload, Math.floor(ctx.now().getTime() / 1000)),
          "staxa-event": row.event,
          "staxa-delivery": row.id,
        },
      },
      { ...outboundOptions(ctx), timeoutMs: TIMEOUT_MS, maxBytes: 64 * 1024 },
    );
    code = res.status;
    if (res.ok) {
      deliveries.update(ctx.db, row.id, {
        status: "delivered",
        attempts,
        last_status_code: code,
        last_error: null,
        delivered_at: nowIso(ctx.now()),
      });
      return;
    }
    error = `receiver answered ${code}`;
  } catch (e) {
    const err = e as Error;
    error = (
      err.name === "AbortError" || err.name === "TimeoutError"
        ? `timed out after ${TIMEOUT_MS / 1000}s`
        : err.message || String(e)
    ).slice(0, 300);
  }
  const failed = attempts >= MAX_ATTEMPTS;
  const next = new Date(ctx.now().getTime() + (failed ? 0 : backoffMs(attempts, ctx.config.webhookBackoffDivisor)));
  deliveries.update(ctx.db, row.id, {
    status: failed ? "failed" : "pending",
    attempts,
    last_status_code: code,
    last_error: error,
    next_attempt_at: next.toISOString(),
  });
  ctx.log.info("webhook delivery failed", {
    delivery: row.id,
    webhook: hook.id,
    attempts,
    status_code: code,
    error,
    gave_up: failed,
  });
}

export interface WebhookWorker {
  stop(): Promise<void>;
  /** Picks due rows now (also runs on a timer); resolves when the picked attempts finished. */
  tick(): Promise<void>;
}

/** Subscribes to notifications and sends due deliveries in the background; pending rows from before a restart resume. */
export function startWebhookWorker(ctx: Ctx): WebhookWorker {
  const inFlight = new Map<string, Promise<void>>();
  const perHook = new Map<string, number>();
  let stopped = false;

  const tick = async (): Promise<void> => {
    if (stopped) return;
    const started: Promise<void>[] = [];
    const due = deliveries.listDue(ctx.db, ctx.now().toISOString(), 100);
    for (const row of due) {
      if (inFlight.size >= MAX_IN_FLIGHT) break;
      if (inFlight.has(row.id) || (perHook.get(row.webhook_id) ?? 0) >= MAX_IN_FLIGHT_PER_WEBHOOK) continue;
      perHook.set(row.webhook_id, (perHook.get(row.webhook_id) ?? 0) + 1);
      const p = attempt(ctx, row)
        .catch((e) => ctx.log.error("webhook worker error", { delivery: row.id, error: (e as Error).message }))
        .finally(() => {
          inFlight.delete(row.id);
          perHook.set(row.webhook_id, (perHook.get(row.webhook_id) ?? 1) - 1);
          if (!stopped) setTimeout(() => void tick(), 0); // a slot freed: pick the next due row
        });
      inFlight.set(row.id, p);
      started.push(p);
    }
    await Promise.all(started);
  };

  const unsubscribe = ctx.bus.onNotification((n) => {
    try {
      if (enqueue(ctx, n).length) setTimeout(() => void tick(), 0);
    } catch (e) {
      ctx.log.error("webhook enqueue failed", { event: n.event, error: (e as Error).message });
    }
  });
  const timer = setInterval(() => void tick(), POLL_MS);
  setTimeout(() => void tick(), 0);

  return {
    tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      unsubscribe();
      // in-flight attempts finish (bounded by the timeout); an interrupted one stays pending and is resent after restart
      await Promise.allSettled([...inFlight.values()]);
    },
  };
}
