// Webhook endpoints: validation (SSRF-checked URL, known events), the secret shown once, CRUD per provider and mode.
import type { Ctx } from "../context.ts";
import type { Principal } from "../identity/principal.ts";
import * as store from "../../store/webhooks.ts";
import * as deliveries from "../../store/webhook-deliveries.ts";
import { Invalid } from "../../lib/errors.ts";
import { newId, nowIso, randomAlnum } from "../../lib/ids.ts";
import { checkOutboundUrl, ownPorts } from "../../lib/ssrf.ts";
import type { NotificationName } from "../../events/bus.ts";

/** Every event a webhook can subscribe to (the reference's planned list). */
export const WEBHOOK_EVENTS: readonly NotificationName[] = [
  "tenant.ready",
  "tenant.failed",
  "tenant.deleted",
  "deployment.started",
  "deployment.succeeded",
  "deployment.failed",
];

export interface WebhookView {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  active: boolean;
  created_at: string;
  updated_at: string;
}

export interface DeliveryView {
  id: string;
  event_id: string;
  event: string;
  status: deliveries.DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  delivered_at: string | null;
  payload: unknown;
}

export function toView(r: store.WebhookRow): WebhookView {
  return {
    id: r.id,
    url: r.url,
    events: JSON.parse(r.events),
    description: r.description,
    active: r.active === 1,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

export function toDeliveryView(r: deliveries.DeliveryRow): DeliveryView {
  return {
    id: r.id,
    event_id: r.event_id,
    event: r.event,
    status: r.status,
    attempts: r.attempts,
    last_status_code: r.last_status_code,
    last_error: r.last_error,
    next_attempt_at: r.status === "pending" ? r.next_attempt_at : null,
    created_at: r.created_at,
    delivered_at: r.delivered_at,
    payload: JSON.parse(r.payload),
  };
}

/** The SSRF options for webhook URLs under the current settings. */
export function outboundOptions(ctx: Pick<Ctx, "config">) {
  return {
    field: "url",
    allowPrivate: ctx.config.allowPrivateTargets,
    allowHttp: ctx.config.allowHttpWebhooks,
    ownPorts: ownPorts(ctx.config),
  };
}

async function checkUrl(ctx: Ctx, url: unknown): Promise<string> {
  const checked = await checkOutboundUrl(url, outboundOptions(ctx));
  return checked.url.toString();
}

function checkEvents(events: unknown): string[] {
  if (!Array.isArray(events) || events.length === 0)
    throw new Invalid("events", `"events" must be a non-empty array of event names`, { allowed: WEBHOOK_EVENTS });
  for (const e of events) {
    if (typeof e !== "string" || !(WEBHOOK_EVENTS as readonly string[]).includes(e)) {
      throw new Invalid("events", `Unknown event ${JSON.stringify(e)}; known events: ${WEBHOOK_EVENTS.join(", ")}`, {
        allowed: WEBHOOK_EVENTS,
      });
    }
  }
  return [...new Set(events as string[])];
}

function checkDescription(d: unknown): string | null {
  if (d === undefined || d === null) return null;
  if (typeof d !== "string" || d.length > 500 || /[\u0000-\u001f]/.test(d))
    throw new Invalid("description", `"description" must be a single-line string of at most 500 characters`);
  return d;
}

/** Creates a webhook; the raw secret is returned here and never again. */
export async function createWebhook(
  ctx: Ctx,
  p: Principal,
  input: { url: unknown; events: unknown; description?: unknown },
): Promise<WebhookView & { secret: string }> {
  const url = await checkUrl(ctx, input.url);
  const events = checkEvents(input.events);
  const description = checkDescription(input.description);
  const secret = `whsec_${randomAlnum(32)}`;
  const now = nowIso(ctx.now());
  const row: store.WebhookRow = {
    id: newId("whk"),
    provider_id: p.providerId,
    mode: p.mode,
    url,
    events: JSON.stringify(events),
    description,
    secret_enc: ctx.box.seal(secret),
    active: 1,
    created_at: now,
    updated_at: now,
  };
  store.insert(ctx.db, row);
  return { ...toView(row), secret };
}

export function listWebhooks(ctx: Ctx, p: Principal, limit: number, offset: number): { rows: WebhookView[]; total: number } {
  const { rows, total } = store.list(ctx.db, p.providerId, p.mode, limit, offset);
  return { rows: rows.map(toView), total };
}

export function getWebhook(ctx: Ctx, p: Principal, id: string): WebhookView {
  return toView(store.get(ctx.db, p.providerId, p.mode, id));
}

/** Partial update: only the given fields change; everything is validated before anything is written. */
export async function updateWebhook(
  ctx: Ctx,
  p: Principal,
  id: string,
  input: { url?: unknown; events?: unknown; description?: unknown; active?: unknown },
): Promise<WebhookView> {
  store.get(ctx.db, p.providerId, p.mode, id);
  const patch: store.WebhookPatch = {};
  if (input.url !== undefined) patch.url = await checkUrl(ctx, input.url);
  if (input.events !== undefined) patch.events = JSON.stringify(checkEvents(input.events));
  if (input.description !== undefined) patch.description = checkDescription(input.description);
  if (input.active !== undefined) {
    if (typeof input.active !== "boolean") throw new Invalid("active", `"active" must be a boolean`);
    patch.active = input.active ? 1 : 0;
  }
  patch.updated_at = nowIso(ctx.now());
  store.update(ctx.db, id, patch);
  return getWebhook(ctx, p, id);
}

export function deleteWebhook(ctx: Ctx, p: Principal, id: string): void {
  store.get(ctx.db, p.providerId, p.mode, id);
  store.remove(ctx.db, p.providerId, p.mode, id);
}

export function listDeliveries(
  ctx: Ctx,
  p: Principal,
  id: string,
  limit: number,
  offset: number,
): { rows: DeliveryView[]; total: number } {
  const hook = store.get(ctx.db, p.providerId, p.mode, id);
  const { rows, total } = deliveries.listRecent(ctx.db, hook.id, limit, offset);
  return { rows: rows.map(toDeliveryView), total };
}

/** Queues one delivery again, now, with a fresh attempt budget (same event id, so receivers can de-duplicate). */
export function redeliver(ctx: Ctx, p: Principal, id: string, deliveryId: string): DeliveryView {
  const hook = store.get(ctx.db, p.providerId, p.mode, id);
  const row = deliveries.get(ctx.db, hook.id, deliveryId);
  deliveries.update(ctx.db, row.id, {
    status: "pending",
    attempts: 0,
    next_attempt_at: ctx.now().toISOString(),
    last_error: null,
  });
  return toDeliveryView(deliveries.get(ctx.db, hook.id, deliveryId));
}
