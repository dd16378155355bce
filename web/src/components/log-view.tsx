/** @jsxImportSource preact */
// A log panel: one fetch of text, or a followed stream (text/plain chunks or SSE data lines).
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, authHeaders, toApiError } from "../api.ts";
import { openStream } from "../stream.ts";
import { ErrorNote } from "./ui.tsx";

const MAX_CHARS = 400_000;

/**
 * Shows `path` (relative to /api/v1); follows it when `follow`; refetches when `version` changes. `finished`: the
 * log is complete (a finished deployment's), so an empty one is said to be empty, not "no output yet".
 */
export function LogView(props: { path: string; follow?: boolean; version?: unknown; label: string; finished?: boolean }) {
  const [text, setText] = useState("");
  const [err, setErr] = useState<ApiError | null>(null);
  const [live, setLive] = useState(false);
  // The path whose log has been read once: before that, an empty panel means "not read yet", not "empty".
  const [readPath, setReadPath] = useState<string | null>(null);
  const pre = useRef<HTMLPreElement>(null);
  // Stay at the bottom while the reader is there; leave them alone once they scroll up.
  const stick = useRef(true);

  useEffect(() => {
    setErr(null);
    if (!props.follow) {
      let cancelled = false;
      fetch(`/api/v1${props.path}`, { headers: authHeaders({ accept: "text/plain" }) })
        .then(async (res) => {
          if (!res.ok) throw await toApiError(res);
          const t = await res.text();
          if (cancelled) return;
          setText(t.length > MAX_CHARS ? t.slice(-MAX_CHARS) : t);
          setReadPath(props.path);
        })
        .catch((e) => !cancelled && setErr(e instanceof ApiError ? e : new ApiError(0, "network", "Cannot load the log.")));
      return () => void (cancelled = true);
    }
    setText("");
    const h = openStream(props.path, {
      onOpen: () => {
        setLive(true);
        setReadPath(props.path);
      },
      onMessage: (m) =>
        setText((old) => {
          const next = old + (m.event === "text" ? m.data : `${m.data}\n`);
          return next.length > MAX_CHARS ? next.slice(-MAX_CHARS) : next;
        }),
      onError: (e) => {
        setErr(e);
        setLive(false);
      },
    });
    return () => {
      h.close();
      setLive(false);
    };
  }, [props.path, props.follow, props.version]);

  useEffect(() => {
    const el = pre.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [text]);

  return (
    <div>
      <ErrorNote err={err} />
      {props.follow && (
        <p class="muted" aria-live="polite">
          {live ? "Following live…" : "Not connected."}
        </p>
      )}
      <pre
        class="log"
        ref={pre}
        onScroll={(e) => {
          const el = e.currentTarget as HTMLPreElement;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }}
        tabIndex={0}
        aria-label={props.label}
        aria-live="off"
      >
        {readPath !== props.path
          ? err
            ? ""
            : "Loading…"
          : text || (err ? "" : props.finished ? "(this log is empty)" : "(no output yet)")}
      </pre>
    </div>
  );
}
