/** @jsxImportSource preact */
// Webhooks: endpoints receiving signed event POSTs; create (the signing secret shown once), edit events and
// active, delete, and each endpoint's recent deliveries with redelivery.
import { useState } from "preact/hooks";
import { api, seg, type ApiError } from "../api.ts";
import { useAction, useApi } from "../hooks.ts";
import { Badge, Button, CopyButton, ErrorNote, Field, Loading, When, fieldIs, txt } from "../components/ui.tsx";

interface Webhook {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  active: boolean;
  created_at: string;
  updated_at: string;
}
interface Delivery {
  id: string;
  event_id: string;
  event: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  delivered_at: string | null;
}

/** The events the API knows (docs/webhooks.md); the API refuses any other name. */
export const WEBHOOK_EVENTS = [
  "tenant.ready",
  "tenant.failed",
  "tenant.deleted",
  "deployment.started",
  "deployment.succeeded",
  "deployment.failed",
];

/** Checkboxes for event names, with the API's error under them when it names `events`. */
function EventPicker(props: { value: string[]; onValue: (v: string[]) => void; err?: ApiError | null; legend: string }) {
  const bad = fieldIs(props.err, "events");
  const toggle = (e: string, on: boolean) =>
    props.onValue(on ? [...props.value, e].filter((x, i, a) => a.indexOf(x) === i) : props.value.filter((x) => x !== e));
  return (
    <fieldset class={`checks${bad ? " invalid" : ""}`} aria-invalid={bad}>
      <legend>{props.legend}</legend>
      {WEBHOOK_EVENTS.map((e) => (
        <label>
          <input
            type="checkbox"
            name="events"
            value={e}
            checked={props.value.includes(e)}
            onChange={(ev) => toggle(e, (ev.currentTarget as HTMLInputElement).checked)}
          />{" "}
          {e}
        </label>
      ))}
      {bad && (
        <p class="field-error" role="alert" style="flex-basis:100%">
          {props.err!.message}
        </p>
      )}
    </fieldset>
  );
}

export function WebhooksPage() {
  const list = useApi<Webhook[]>("/webhooks?limit=100");
  const [f, setF] = useState({ url: "", description: "", events: ["tenant.ready", "deployment.failed"] });
  const [created, setCreated] = useState<{ url: string; secret: string } | null>(null);
  const create = useAction(async () => {
    const body: Record<string, unknown> = { url: f.url.trim(), events: f.events };
    if (f.description.trim()) body.description = f.description.trim();
    const r = await api<Webhook & { secret: string }>("POST", "/webhooks", body);
    setCreated({ url: r.data?.url ?? f.url, secret: r.data?.secret ?? "" });
    setF({ ...f, url: "", description: "" });
    list.reload();
  });
  const total = Number(list.meta.total ?? list.data?.length ?? 0);
  return (
    <section>
      <h1>Webhooks</h1>
      <p class="muted">
        Staxa POSTs signed JSON to these URLs when tenants and deployments change (header <code>Staxa-Signature</code>:
        HMAC-SHA256 with the endpoint's secret). Failed deliveries are retried for about a day.
      </p>
      {created && (
        <div class="once card" role="status">
          <p>
            <strong>Webhook for {created.url} created.</strong> Copy its signing secret now: it is shown only this once and cannot
            be recovered.
          </p>
          <p>
            <code data-testid="new-secret">{created.secret}</code>{" "}
            <CopyButton text={created.secret} label="Copy the signing secret" />
          </p>
          <button type="button" class="btn" onClick={() => setCreated(null)}>
            I have stored it
          </button>
        </div>
      )}
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
        noValidate
      >
        <h2>Add an endpoint</h2>
        <div class="row">
          <Field
            label="Endpoint URL"
            name="url"
            value={f.url}
            err={create.error}
            placeholder="https://hooks.example.com/staxa"
            onValue={(url) => setF({ ...f, url })}
          />
          <Field
            label="Description (optional)"
            name="description"
            value={f.description}
            err={create.error}
            onValue={(description) => setF({ ...f, description })}
          />
        </div>
        <EventPicker legend="Events" value={f.events} err={create.error} onValue={(events) => setF({ ...f, events })} />
        <ErrorNote err={create.error} fields={["url", "events", "description"]} />
        <Button type="submit" kind="primary" busy={create.busy}>
          Add webhook
        </Button>
      </form>
      <ErrorNote err={list.error} />
      {list.loading && !list.data && <Loading what="webhooks" />}
      {list.data && list.data.length === 0 && <p class="muted">No webhooks.</p>}
      {list.data?.map((w) => (
        <WebhookCard key={w.id} hook={w} reload={list.reload} />
      ))}
      {list.data && total > list.data.length && (
        <p class="muted">
          Showing {list.data.length} of {total} webhooks.
        </p>
      )}
    </section>
  );
}

function WebhookCard(props: { hook: Webhook; reload: () => void }) {
  const w = props.hook;
  const base = `/webhooks/${seg(w.id)}`;
  const [editing, setEditing] = useState(false);
  const [events, setEvents] = useState(w.events);
  const [active, setActive] = useState(w.active);
  const [showDeliveries, setShowDeliveries] = useState(false);
  const [note, setNote] = useState("");
  const save = useAction(async () => {
    await api("PATCH", base, { events, active });
    setNote("Saved.");
    setEditing(false);
    props.reload();
  });
  const del = useAction(async () => {
    await api("DELETE", base);
    props.reload();
  });
  return (
    <article class="card" aria-label={`Webhook ${w.url}`}>
      <div class="spread">
        <h2 style="margin:0;word-break:break-all">
          {w.url} <Badge status={w.active ? "active" : "inactive"} />
        </h2>
        <div class="actions" style="margin:0">
          <Button
            onClick={() => {
              setEditing(!editing);
              setEvents(w.events);
              setActive(w.active);
              setNote("");
            }}
            aria-expanded={editing}
          >
            {editing ? "Cancel edit" : "Edit"}
          </Button>
          <Button onClick={() => setShowDeliveries(!showDeliveries)} aria-expanded={showDeliveries}>
            {showDeliveries ? "Hide deliveries" : "Deliveries"}
          </Button>
          <Button
            busy={del.busy}
            onClick={() => {
              if (confirm(`Delete the webhook for ${w.url}? Its delivery history goes with it.`)) void del.run();
            }}
          >
            Delete
          </Button>
        </div>
      </div>
      <p class="muted">
        <code>{w.id}</code> · {txt(w.events)}
        {w.description && <> · {w.description}</>} · added <When at={w.created_at} />
      </p>
      <ErrorNote err={del.error} />
      {note && (
        <p class="note ok" role="status">
          {note}
        </p>
      )}
      {editing && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void save.run();
          }}
          noValidate
        >
          <EventPicker legend="Events sent to this endpoint" value={events} err={save.error} onValue={setEvents} />
          <label class="check">
            <input
              type="checkbox"
              name="active"
              checked={active}
              onChange={(e) => setActive((e.currentTarget as HTMLInputElement).checked)}
            />{" "}
            Active (an inactive endpoint receives nothing; its pending deliveries end as failed)
          </label>
          <ErrorNote err={save.error} fields={["events"]} />
          <Button type="submit" kind="primary" busy={save.busy}>
            Save webhook
          </Button>
        </form>
      )}
      {showDeliveries && <Deliveries base={base} />}
    </article>
  );
}

function Deliveries(props: { base: string }) {
  const list = useApi<Delivery[]>(`${props.base}/deliveries?limit=20`);
  const [note, setNote] = useState("");
  const again = useAction(async (d: Delivery) => {
    await api("POST", `${props.base}/deliveries/${seg(d.id)}/redeliver`);
    setNote(`Delivery ${d.id} (${d.event}) queued again.`);
    list.reload();
  });
  const rows = list.data ?? [];
  return (
    <div>
      <div class="spread">
        <h3>Recent deliveries</h3>
        <Button class="btn small" busy={list.loading} onClick={list.reload}>
          Refresh
        </Button>
      </div>
      <ErrorNote err={again.error ?? list.error} />
      {note && (
        <p class="note ok" role="status">
          {note}
        </p>
      )}
      {list.loading && !list.data && <Loading what="deliveries" />}
      {list.data && rows.length === 0 && <p class="muted">No deliveries yet: they appear when a subscribed event happens.</p>}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table class="stack">
            <thead>
              <tr>
                <th>Event</th>
                <th>Status</th>
                <th>Attempts</th>
                <th>Last answer</th>
                <th>Created</th>
                <th>Delivered / next try</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr data-delivery={d.id}>
                  <td data-label="Event">
                    {d.event}
                    <div class="muted">
                      <code>{d.id}</code>
                    </div>
                  </td>
                  <td data-label="Status">
                    <Badge status={d.status} />
                  </td>
                  <td data-label="Attempts">{txt(d.attempts)}</td>
                  <td data-label="Last answer">
                    {d.last_status_code ? `HTTP ${d.last_status_code}` : ""}
                    {d.last_error ? <div class="muted">{d.last_error}</div> : d.last_status_code ? null : "—"}
                  </td>
                  <td data-label="Created">
                    <When at={d.created_at} />
                  </td>
                  <td data-label="Delivered / next try">
                    {d.delivered_at ? (
                      <When at={d.delivered_at} />
                    ) : d.status === "pending" ? (
                      <When at={d.next_attempt_at} />
                    ) : (
                      "—"
                    )}
                  </td>
                  <td data-label="Actions">
                    <Button class="btn small" busy={again.busy} onClick={() => void again.run(d)}>
                      Redeliver
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
