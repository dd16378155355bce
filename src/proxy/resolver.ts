// `staxa resolver`: the data plane's half of routing, a process of its own so that tenants keep being served while
// the appliance is stopped, killed, upgraded or restarting (docs/routing.md). It
//   - follows the store's routing table (read-only; `PRAGMA data_version` polled, or at once on the appliance's /sync),
//   - answers Caddy's upstream lookups over DNS from memory (dns-responder.ts),
//   - answers Caddy's on-demand TLS `ask` from the same table,
//   - serves the 404 page of unknown hosts and the HTTPS redirect of TLS hosts (Caddy proxies those to it),
//   - loads the appliance's Caddy config back into a Caddy that restarted without it (caddy-watch.ts).
// Everything listens on 127.0.0.1 only.
import { existsSync, statSync } from "node:fs";
import type { Config } from "../config.ts";
import type { Logger } from "../lib/log.ts";
import type { Db } from "../store/db.ts";
import { changesSince, currentRev, openReader } from "../store/proxy-routes.ts";
import { RouteTable } from "./route-table.ts";
import { startDnsResponder, type DnsResponder } from "./dns-responder.ts";
import { watchCaddy } from "./caddy-watch.ts";
import { NOT_FOUND_BODY } from "./config.ts";
import type { LookupKind } from "./dns-names.ts";

const POLL_MS = 100;
/** A whole re-read now and then: tombstones older than an hour are gone, so a reader must not rely on them forever. */
const FULL_RELOAD_MS = 5 * 60_000;
/** A store that was open and then vanished (its data dir deleted) for this long ends the process. */
const GONE_EXIT_MS = 1_000;

export interface Resolver {
  readonly port: number;
  readonly table: RouteTable;
  stop(): void;
}

/** Starts the resolver for `config` (its store, Caddy, ports) and returns once it answers. */
export async function startResolver(config: Config, log: Logger): Promise<Resolver> {
  const table = new RouteTable();
  let db: Db | undefined;
  let inode = 0;
  let dataVersion = -1;
  let lastFull = 0;
  let goneSince = 0;

  const open = () => {
    if (!existsSync(config.dbPath)) return;
    db?.close();
    db = openReader(config.dbPath);
    inode = statSync(config.dbPath).ino;
    dataVersion = -1;
    lastFull = 0;
  };

  /** Reads what changed since the table's revision (everything, when `whole`), in one read transaction. */
  const reload = (whole = false) => {
    if (!db) return;
    const now = Date.now();
    try {
      db.transaction(() => {
        const rev = currentRev(db!);
        if (!whole && rev === table.rev && lastFull) return;
        const full = whole || !lastFull || rev < table.rev;
        table.apply(changesSince(db!, full ? 0 : table.rev), rev, now, full);
        if (full) lastFull = now;
      })();
    } catch (err) {
      // No routing table yet (the appliance has not migrated this store): nothing to serve.
      log.debug("routing table not readable", { error: (err as Error).message });
    }
  };

  const tick = () => {
    const now = Date.now();
    let st: { ino: number } | undefined;
    try {
      st = statSync(config.dbPath);
    } catch {}
    if (!st) {
      if (db && !goneSince) goneSince = now;
      if (goneSince && now - goneSince > GONE_EXIT_MS) {
        log.info("the store is gone; resolver exits", { db: config.dbPath });
        process.exit(0);
      }
      return;
    }
    goneSince = 0;
    if (!db || st.ino !== inode) open(); // first start, or a restore replaced the file
    if (!db) return;
    const v = db.query<{ data_version: number }, []>("PRAGMA data_version").get()!.data_version;
    if (v !== dataVersion || now - lastFull > FULL_RELOAD_MS) {
      dataVersion = v;
      reload(now - lastFull > FULL_RELOAD_MS);
    }
    table.prune(now);
  };

  const fallback = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const host = (req.headers.get("host") ?? "").replace(/:\d+$/, "").toLowerCase();
      if (table.hosts.get(host)?.tls) {
        const url = new URL(req.url);
        const port = config.httpsPort === 443 ? "" : `:${config.httpsPort}`;
        return new Response(null, { status: 308, headers: { location: `https://${host}${port}${url.pathname}${url.search}` } });
      }
      return new Response(NOT_FOUND_BODY, { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } });
    },
  });
  const self = `127.0.0.1:${fallback.port}`;
  const resolve = (kind: LookupKind, host: string): string[] => {
    table.answeredNow(kind, host, Date.now());
    const e = table.hosts.get(host);
    if (!e || (kind === "http" && e.tls)) return [self];
    return e.upstreams;
  };

  open();
  reload(true);
  const { dns, control } = await listen(config.resolverPort, resolve, {
    ask: (host) => table.hosts.has(host),
    sync: (hosts) => {
      reload();
      return { rev: table.rev, settle_ms: table.settleMs(hosts, Date.now()) };
    },
    status: () => ({ pid: process.pid, db: config.dbPath, rev: table.rev, hosts: table.hosts.size }),
  });
  const poll = setInterval(tick, POLL_MS);
  const stopWatch = watchCaddy(config, () => db, log);
  log.info("resolver listening", { port: dns.port, db: config.dbPath, hosts: table.hosts.size });
  return {
    port: dns.port,
    table,
    stop() {
      clearInterval(poll);
      stopWatch();
      dns.close();
      control.stop(true);
      fallback.stop(true);
      db?.close();
    },
  };
}

interface ControlApi {
  ask(host: string): boolean;
  sync(hosts: string[]): { rev: number; settle_ms: number };
  status(): Record<string, unknown>;
}

/** DNS on udp and the control API on tcp, both 127.0.0.1:`port`; port 0 takes a number free for both. */
async function listen(port: number, resolve: (kind: LookupKind, host: string) => string[], api: ControlApi) {
  for (let attempt = 0; ; attempt++) {
    const dns: DnsResponder = await startDnsResponder(resolve, port);
    try {
      return { dns, control: serveControl(dns.port, api) };
    } catch (err) {
      dns.close();
      if (port !== 0 || attempt > 20) throw err;
    }
  }
}

function serveControl(port: number, api: ControlApi) {
  return Bun.serve({
    hostname: "127.0.0.1",
    port,
    async fetch(req) {
      const url = new URL(req.url);
      if (req.method === "GET" && url.pathname === "/ask") {
        // Caddy asks before every certificate it would obtain: only hosts a route serves get one.
        const host = (url.searchParams.get("domain") ?? "").toLowerCase();
        return new Response(null, { status: host && api.ask(host) ? 200 : 404 });
      }
      if (req.method === "POST" && url.pathname === "/sync") {
        const body = (await req.json().catch(() => ({}))) as { hosts?: unknown };
        const hosts = Array.isArray(body.hosts) ? body.hosts.filter((h): h is string => typeof h === "string") : [];
        return Response.json(api.sync(hosts));
      }
      if (req.method === "GET" && url.pathname === "/status") return Response.json(api.status());
      return new Response(null, { status: 404 });
    },
  });
}
