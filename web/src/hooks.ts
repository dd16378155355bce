// Data loading for pages: one GET with loading/error state and a reload.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, type Envelope } from "./api.ts";

export interface Loaded<T> {
  data: T | undefined;
  meta: Envelope<T>["meta"];
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/** GETs `path` (null = don't load yet); keeps the last data while reloading so pages don't flash. */
export function useApi<T>(path: string | null): Loaded<T> {
  const [state, setState] = useState<{ data?: T; meta: Envelope<T>["meta"]; error: ApiError | null; loading: boolean }>({
    meta: {},
    error: null,
    loading: path !== null,
  });
  const [n, setN] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    if (path === null) return;
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    api<T>("GET", path).then(
      (r) => mine === seq.current && setState({ data: r.data, meta: r.meta, error: null, loading: false }),
      (e) =>
        mine === seq.current &&
        setState((s) => ({
          ...s,
          error: e instanceof ApiError ? e : new ApiError(0, "unknown", "Something went wrong."),
          loading: false,
        })),
    );
  }, [path, n]);
  const reload = useCallback(() => setN((x) => x + 1), []);
  return { data: state.data, meta: state.meta, error: state.error, loading: state.loading, reload };
}

/** Runs an action with busy/error state, e.g. a form submit. */
export function useAction<A extends unknown[], R>(fn: (...args: A) => Promise<R>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const run = async (...args: A): Promise<R | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await fn(...args);
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, "unknown", "Something went wrong. Try again."));
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, setError };
}
