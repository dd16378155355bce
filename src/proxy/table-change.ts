// One route change as ONE admin call, planned as data: append, replace or delete a single row when that is all it is.
import { hostId, hostMappings, MAPPINGS_PATH, withRoute, type HostMapping } from "./config.ts";
import type { Route } from "./types.ts";

export interface AdminCall {
  method: "POST" | "PATCH" | "DELETE";
  path: string;
  body?: unknown;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The table after setting (or, with no route, removing) route `id`, and the smallest admin call
 * that gets Caddy there; no call when nothing changes. Small bodies matter less than one call
 * per change: Caddy rebuilds its whole config on each.
 */
export function planChange(rows: HostMapping[], id: string, route?: Route): { next: HostMapping[]; call?: AdminCall } {
  const old = rows.filter((m) => m.outputs[1] === id);
  const added = route ? hostMappings(route) : [];
  const one = added[0];
  if (added.length === 1 && old.length === 1 && old[0]!.input === one!.input) {
    if (same(old[0], one)) return { next: rows };
    return { next: rows.map((m) => (m.input === one!.input ? one! : m)), call: { method: "PATCH", path: `/id/${hostId(one!.input)}`, body: one } };
  }
  if (added.length === 1 && old.length === 0 && !rows.some((m) => m.input === one!.input)) {
    return { next: [...rows, one!], call: { method: "POST", path: MAPPINGS_PATH, body: one } };
  }
  if (added.length === 0 && old.length === 1) {
    return { next: rows.filter((m) => m !== old[0]), call: { method: "DELETE", path: `/id/${hostId(old[0]!.input)}` } };
  }
  const next = withRoute(rows, id, route);
  return same(next, rows) ? { next } : { next, call: { method: "PATCH", path: MAPPINGS_PATH, body: next } };
}
