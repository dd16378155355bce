// The resolver's routing table in memory, and what Caddy may still hold from before a change.
//
// Caddy caches a lookup's answer for LOOKUP_REFRESH_MS. After a host's answer changes, Caddy keeps using the old one
// until that cached answer expires, so the appliance must not stop an old upstream before then: `settleMs` says how
// long that is, from when this table last answered each host (0 for a host nobody asked about since the change).
import type { HostRow } from "../store/proxy-routes.ts";
import type { LookupKind } from "./dns-names.ts";
import { LOOKUP_REFRESH_MS } from "./config.ts";

export interface HostEntry {
  routeId: string;
  upstreams: string[];
  tls: boolean;
}

/** Slack on top of Caddy's refresh: its clock starts when its lookup returns, a little after we answered. */
const SETTLE_SLACK_MS = 150;

export class RouteTable {
  readonly hosts = new Map<string, HostEntry>();
  rev = 0;
  /** `${kind} ${host}` -> when its last answer was sent. */
  private readonly answered = new Map<string, number>();
  /** host -> when its answer last changed (kept while Caddy may hold an answer from before). */
  private readonly changed = new Map<string, number>();

  constructor(private readonly refreshMs = LOOKUP_REFRESH_MS) {}

  /** Applies rows read from the store (changes since `rev`, or, with `whole`, the live table replacing everything). */
  apply(rows: HostRow[], rev: number, now: number, whole = false): void {
    if (whole) {
      const seen = new Set(rows.map((r) => r.host));
      for (const h of this.hosts.keys()) if (!seen.has(h)) this.drop(h, now);
    }
    for (const r of rows) {
      if (r.upstreams.length === 0) {
        this.drop(r.host, now);
        continue;
      }
      const was = this.hosts.get(r.host);
      if (was && was.routeId === r.route_id && was.tls === r.tls && was.upstreams.join(" ") === r.upstreams.join(" ")) continue;
      this.hosts.set(r.host, { routeId: r.route_id, upstreams: r.upstreams, tls: r.tls });
      this.changed.set(r.host, now);
    }
    this.rev = rev;
  }

  private drop(host: string, now: number) {
    if (this.hosts.delete(host)) this.changed.set(host, now);
  }

  /** Records that `host` was just answered for a `kind` lookup (Caddy caches that answer from now). */
  answeredNow(kind: LookupKind, host: string, now: number): void {
    this.answered.set(`${kind} ${host}`, now);
  }

  /** How long until no answer Caddy cached before the last change of `hosts` can still be used. */
  settleMs(hosts: string[], now: number): number {
    let wait = 0;
    for (const h of hosts) {
      const changed = this.changed.get(h);
      if (changed === undefined) continue;
      for (const kind of ["route", "http"] as const) {
        const at = this.answered.get(`${kind} ${h}`);
        if (at !== undefined && at <= changed) wait = Math.max(wait, at + this.refreshMs + SETTLE_SLACK_MS - now);
      }
    }
    return Math.max(0, Math.ceil(wait));
  }

  /** Forgets answers and changes older than Caddy's cache: they can no longer matter (keeps both maps bounded). */
  prune(now: number): void {
    const old = now - this.refreshMs - SETTLE_SLACK_MS;
    for (const [k, t] of this.answered) if (t < old) this.answered.delete(k);
    for (const [k, t] of this.changed) if (t < old) this.changed.delete(k);
  }
}
