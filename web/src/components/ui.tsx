/** @jsxImportSource preact */
// Shared building blocks: fields with their error, error notes, status badges, buttons, empty states.
import type { ComponentChildren, InputHTMLAttributes, ButtonHTMLAttributes } from "preact";
import { useState } from "preact/hooks";
import type { ApiError } from "../api.ts";
import { onLinkClick } from "../router.ts";

let nextId = 0;
/** A stable unique id for label/input pairs. */
export function useId(prefix = "f"): string {
  const [id] = useState(() => `${prefix}-${++nextId}`);
  return id;
}

/** Does this API error point at `name`? ("name", "body.name", "services.0.name" and "name[2]" all match "name".) */
export function fieldIs(err: ApiError | null | undefined, ...names: string[]): boolean {
  const f = err?.field;
  if (!f) return false;
  return names.some((n) => f === n || f.endsWith(`.${n}`) || f.startsWith(`${n}.`) || f.startsWith(`${n}[`));
}

type InputProps = InputHTMLAttributes<HTMLInputElement>;

/** A labelled input; `error` (or an API error naming `name`) shows under it and marks it invalid. */
export function Field(
  props: { label: string; name: string; hint?: string; err?: ApiError | null; onValue: (v: string) => void } & Omit<
    InputProps,
    "name"
  >,
) {
  const { label, name, hint, err, onValue, ...rest } = props;
  const id = useId(name);
  const bad = fieldIs(err, name);
  const describedBy = [hint ? `${id}-hint` : "", bad ? `${id}-err` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div class={`field${bad ? " invalid" : ""}`}>
      <label for={id}>{label}</label>
      <input
        id={id}
        name={name}
        aria-invalid={bad}
        aria-describedby={describedBy}
        {...(rest as any)}
        onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value)}
      />
      {hint && <small id={`${id}-hint`}>{hint}</small>}
      {bad && (
        <p class="field-error" id={`${id}-err`} role="alert">
          {err!.message}
        </p>
      )}
    </div>
  );
}

/** A labelled select. */
export function Select(props: {
  label: string;
  name: string;
  value: string;
  options: [string, string][];
  onValue: (v: string) => void;
  err?: ApiError | null;
}) {
  const id = useId(props.name);
  const bad = fieldIs(props.err, props.name);
  return (
    <div class={`field${bad ? " invalid" : ""}`}>
      <label for={id}>{props.label}</label>
      <select
        id={id}
        name={props.name}
        value={props.value}
        aria-invalid={bad}
        onChange={(e) => props.onValue((e.currentTarget as HTMLSelectElement).value)}
      >
        {props.options.map(([v, l]) => (
          <option value={v}>{l}</option>
        ))}
      </select>
      {bad && (
        <p class="field-error" role="alert">
          {props.err!.message}
        </p>
      )}
    </div>
  );
}

/** An API error in words; hidden when a field already shows it. */
export function ErrorNote(props: { err: ApiError | null | undefined; fields?: string[] }) {
  const e = props.err;
  if (!e) return null;
  if (props.fields && fieldIs(e, ...props.fields)) return null;
  return (
    <p class="note error" role="alert">
      {e.message}
    </p>
  );
}

/** A polite loading line. */
export function Loading(props: { what?: string }) {
  return (
    <p class="muted" aria-live="polite">
      Loading{props.what ? ` ${props.what}` : ""}…
    </p>
  );
}

const TONES: Record<string, string> = {
  ready: "ok",
  succeeded: "ok",
  running: "ok",
  active: "ok",
  verified: "ok",
  done: "ok",
  provisioning: "busy",
  deploying: "busy",
  building: "busy",
  queued: "busy",
  pending: "busy",
  deleting: "busy",
  starting: "busy",
  failed: "bad",
  error: "bad",
  expired: "bad",
  stopped: "bad",
  crashed: "bad",
  ok: "ok",
  delivered: "ok",
  misconfigured: "bad",
  // a cluster service runs fewer tasks than its replicas (Swarm is replacing them): serving, but not fully
  degraded: "busy",
  removing: "busy",
  unverified: "neutral",
};

/** A status badge with colour AND text (colour alone is not enough). */
export function Badge(props: { status: string | null | undefined }) {
  const s = props.status || "unknown";
  return <span class={`badge ${TONES[s] ?? "neutral"}`}>{s}</span>;
}

export function Link(props: { href: string; children: ComponentChildren; class?: string; "aria-current"?: "page" | undefined }) {
  return (
    <a href={props.href} class={props.class} aria-current={props["aria-current"]} onClick={onLinkClick}>
      {props.children}
    </a>
  );
}

export function Button(
  props: ButtonHTMLAttributes<HTMLButtonElement> & { busy?: boolean; kind?: "primary" | "danger" | "plain" },
) {
  const { busy, kind = "plain", children, disabled, ...rest } = props;
  return (
    <button type="button" class={`btn ${kind}`} disabled={disabled || busy} aria-busy={busy} {...(rest as any)}>
      {busy && <span class="spinner" aria-hidden="true" />}
      {children}
    </button>
  );
}

/** Dates as the browser's locale shows them; "—" for none. */
export function When(props: { at: string | null | undefined }) {
  if (!props.at) return <span class="muted">—</span>;
  const d = new Date(props.at);
  if (Number.isNaN(d.getTime())) return <span>{props.at}</span>;
  return (
    <time dateTime={props.at} title={props.at}>
      {d.toLocaleString()}
    </time>
  );
}

/** Text, or a dash for missing values: the UI never prints "undefined" or "null". */
export function txt(v: unknown): string {
  if (v === undefined || v === null || v === "") return "—";
  if (Array.isArray(v)) return v.length ? v.map(txt).join(", ") : "—";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** Copies text to the clipboard and says so. */
export function CopyButton(props: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.text);
    } catch {
      // Insecure contexts (plain http on a LAN IP) have no clipboard API: select-and-copy fallback.
      const ta = document.createElement("textarea");
      ta.value = props.text;
      document.body.appendChild(ta);
      ta.select();
      document.execCommand("copy");
      ta.remove();
    }
    setDone(true);
    setTimeout(() => setDone(false), 2000);
  };
  return (
    <Button onClick={copy} aria-label={props.label ?? "Copy to clipboard"}>
      {done ? "Copied" : "Copy"}
    </Button>
  );
}
