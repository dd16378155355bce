// Caddy admin API implementation of Proxy: the only code that talks to Caddy.
//
// Two tables serve hosts. Caddy's `map` table is durable (Caddy serves it even while the appliance is
// down) but each write costs O(tenants). So a brand-new route goes into `pending` first: the DNS
// responder answers Caddy's lookups for it at once, and its row is written to the table in the
// background, batched with other new routes. Changes and removals of routes in the table stay
// synchronous single-row calls (planChange), as before.
import type { Config } from "../config.ts";
import type { Proxy, Route } from "./types.ts";
import type { Logger } from "../lib/log.ts";
import { silentLogger } from "../lib/log.ts";
import { Upstream } from "../lib/errors.ts";
import { baseConfig, DNS_NAME_PATH, DNS_REFRESH_MS, MAPPINGS_PATH, proxyOptions, routesFromMappings, validRoute, withRoute, type DnsSource, type HostMapping } from "./config.ts";
import { dnsAnswerable, srvName, startDnsResponder, type DnsResponder } from "./dns-responder.ts";
import { AdminClient } from "./admin-client.ts";
import { Mutex } from "./mutex.ts";
import { planChange } from "./table-change.ts";

/** Keys sorted, so two configs compare equal whatever order Caddy stores them in. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x);
}

/** How long a new route's table row waits for company before it is written (see scheduleFlush). */
const FLUSH_DELAY_MS = 100;

export function createCaddyProxy(config: Config, log: Logger = silentLogger): Proxy {
  const opts = proxyOptions(config);
  const admin = new AdminClient(config.caddyAdminUrl);
  const lock = new Mutex();
  // Caddy's table as last written or read.
  let table: HostMapping[] = [];
  // New routes served over DNS whose rows are not in Caddy's table yet.
  const pending = new Map<string, Route>();
  // host -> route of both tables: what the ask endpoint (per handshake) and the DNS responder answer from.
  let hosts = new Map<string, { id: string; upstream: string }>();
  let tableIds = new Set<string>();
  // host -> when the responder last answered it: Caddy may hold that answer in its lookup cache for
  // DNS_REFRESH_MS. When such a host stops being served, a new generation empties the cache.
  const answered = new Map<string, number>();
  let dns: DnsResponder | undefined;
  let gen = 0;

  const reindex = () => {
    const next = new Map<string, { id: string; upstream: string }>();
    for (const m of table) next.set(m.input, { id: m.outputs[1], upstream: m.outputs[0] });
    tableIds = new Set(table.map((m) => m.outputs[1]));
    for (const r of pending.values()) for (const h of r.hosts) next.set(h, { id: r.id, upstream: r.upstream });
    hosts = next;
  };
  const remember = (rows: HostMapping[]) => {
    table = rows;
    reindex();
  };
  const dnsSource = (): DnsSource | undefined => (dns ? { port: dns.port, gen } : undefined);

  /** Caddy's current table, or undefined when our config is not loaded (fresh or restarted without --resume). */
  const readTable = async (): Promise<HostMapping[] | undefined> => {
    const res = await admin.call("GET", MAPPINGS_PATH, undefined, [200, 404, 400]);
    if (res.status !== 200) return undefined;
    const rows = (await res.json()) as HostMapping[] | null;
    return Array.isArray(rows) ? rows : [];
  };

  /** Loads the base config around `rows` unless Caddy already runs exactly that (no reload, no ACME aborted). */
  const assertBase = async (rows: HostMapping[]) => {
    const want = baseConfig(opts, rows, dnsSource());
    const res = await admin.call("GET", "/config/");
    if (canonical(await res.json()) === canonical(want)) return;
    await admin.call("POST", "/load", want);
    log.info("caddy base config loaded", { routes: routesFromMappings(rows).length });
  };

  /** Writes the whole table in one admin call; reloads the base config when ours is missing. */
  const writeTable = async (rows: HostMapping[]) => {
    const res = await admin.call("PATCH", MAPPINGS_PATH, rows, [200, 404, 400]);
    if (res.status !== 200) await assertBase(rows);
    remember(rows);
  };

  /**
   * A host answered over DNS and no longer served at all may sit in Caddy's lookup cache: a new generation
   * empties it. One answered longer ago than Caddy keeps answers costs nothing (no reload).
   */
  const forgetDropped = async () => {
    const dropped = [...answered.keys()].filter((h) => !hosts.has(h));
    if (dropped.length === 0 || !dns) return;
    const cachedSince = Date.now() - DNS_REFRESH_MS - 5_000;
    const cached = dropped.some((h) => answered.get(h)! > cachedSince);
    for (const h of dropped) answered.delete(h);
    if (!cached) return;
    gen++;
    const res = await admin.call("PATCH", DNS_NAME_PATH, srvName(gen), [200, 404, 400]);
    if (res.status !== 200) await assertBase(table);
  };

  // Set when a change failed midway: the next one re-reads Caddy's table before planning.
  let stale = true;

  /** Runs a table change under the lock; a failure leaves the table to be re-read by the next one. */
  const locked = (fn: () => Promise<void>) =>
    lock.run(async () => {
      try {
        if (stale) remember((await readTable()) ?? table);
        stale = false;
        await fn();
        await forgetDropped();
      } catch (err) {
        stale = true;
        throw err;
      }
    });

  /** Applies one route change with one admin call, planned against the table in memory. */
  const change = (id: string, route?: Route) =>
    locked(async () => {
      // A pending route that changes is written to the table now (its row replaces the DNS answer).
      const was = pending.get(id);
      pending.delete(id);
      const { next, call } = planChange(table, id, route);
      try {
        if (call) {
          const res = await admin.call(call.method, call.path, call.body, [200, 404, 400]);
          // Our row or our whole config is missing (Caddy restarted without --resume): write the table whole.
          if (res.status !== 200) await writeTable(next);
        }
      } catch (err) {
        if (was) pending.set(id, was);
        throw err;
      }
      remember(next);
    });

  /** Writes the rows of pending routes into Caddy's table, all in one call. */
  const flushOnce = () =>
    locked(async () => {
      const batch = [...pending.values()];
      if (batch.length === 0) return;
      await writeTable(batch.reduce((t, r) => withRoute(t, r.id, r), table));
      for (const r of batch) if (pending.get(r.id) === r) pending.delete(r.id);
      reindex();
    });

  // One background flush at a time; routes added meanwhile go in the next batch.
  let flushing: Promise<void> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    if (flushing) return flushing;
    if (pending.size === 0) return Promise.resolve();
    const run = (async () => {
      await Promise.resolve(); // `flushing` is assigned before the loop can finish
      try {
        while (pending.size > 0) await flushOnce();
      } finally {
        flushing = undefined;
      }
    })();
    flushing = run;
    return run;
  };

  /**
   * A route none of whose hosts is served yet, with an upstream DNS can carry. With HTTPS on, only TLS routes:
   * the lookup route takes HTTPS requests only, and a plain-HTTP route must be in the table to be served.
   */
  const isNew = (r: Route) =>
    !!dns && !stale && dnsAnswerable(r.upstream) && (r.tls || !opts.https) && !pending.has(r.id) && !tableIds.has(r.id) && r.hosts.every((h) => !hosts.has(h));

  /**
   * The row write waits a little: a Caddy reload competes with the new host's first requests for the CPU,
   * and routes added in the meantime share the one write.
   */
  const scheduleFlush = () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      flush().catch((err) => log.warn("writing new routes to caddy failed; retried on the next change", { error: (err as Error).message }));
    }, FLUSH_DELAY_MS);
    timer.unref?.();
  };

  return {
    async init() {
      if (!dns) {
        dns = await startDnsResponder((host) => {
          const upstream = hosts.get(host)?.upstream;
          if (upstream) answered.set(host, Date.now());
          return upstream;
        });
      }
      // A new generation per process: lookups cached from a previous run are never reused.
      if (!gen) gen = Date.now();
      await lock.run(async () => {
        const current = (await readTable()) ?? table;
        await assertBase(current);
        remember(current);
        stale = false;
      });
    },

    async setRoute(route: Route) {
      const r = validRoute(route);
      if (isNew(r)) {
        // Served from memory from now on; the durable row follows in the background.
        pending.set(r.id, r);
        for (const h of r.hosts) hosts.set(h, { id: r.id, upstream: r.upstream });
        scheduleFlush();
        log.debug("route added", { route: r.id, upstream: r.upstream });
        return;
      }
      await change(r.id, r);
      log.debug("route set", { route: r.id, upstream: r.upstream });
    },

    async removeRoute(id: string) {
      await change(id);
      log.debug("route removed", { route: id });
    },

    async syncRoutes(routes: Route[]) {
      const rows = routes.map(validRoute).reduce((t, r) => withRoute(t, r.id, r), [] as HostMapping[]);
      await locked(async () => {
        pending.clear();
        await writeTable(rows);
      });
    },

    async listRoutes() {
      await flush();
      const rows = await lock.run(async () => {
        const current = await readTable();
        if (current === undefined) {
          stale = true;
          throw new Upstream("caddy", "staxa config not loaded");
        }
        remember(current);
        stale = false;
        return current;
      });
      return [...routesFromMappings(rows), ...pending.values()];
    },

    hasHost(host: string) {
      return hosts.has(host.toLowerCase());
    },
  } satisfies Proxy;
}
