// Caddy admin API implementation of Proxy: the only code that talks to Caddy.
import type { Config } from "../config.ts";
import type { Proxy, Route } from "./types.ts";
import type { Logger } from "../lib/log.ts";
import { silentLogger } from "../lib/log.ts";
import { Upstream } from "../lib/errors.ts";
import { baseConfig, MAPPINGS_PATH, proxyOptions, routesFromMappings, validRoute, withRoute, type HostMapping } from "./config.ts";
import { AdminClient } from "./admin-client.ts";
import { Mutex } from "./mutex.ts";
import { planChange } from "./table-change.ts";

/** Keys sorted, so two configs compare equal whatever order Caddy stores them in. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x);
}

export function createCaddyProxy(config: Config, log: Logger = silentLogger): Proxy {
  const opts = proxyOptions(config);
  const admin = new AdminClient(config.caddyAdminUrl);
  const lock = new Mutex();
  // host -> route id: what the TLS ask endpoint answers from, per handshake, without I/O.
  let hosts = new Map<string, string>();
  let table: HostMapping[] = [];

  const remember = (rows: HostMapping[]) => {
    table = rows;
    hosts = new Map(rows.map((m) => [m.input, m.outputs[1]]));
  };

  /** Caddy's current table, or undefined when our config is not loaded (fresh or restarted without --resume). */
  const readTable = async (): Promise<HostMapping[] | undefined> => {
    const res = await admin.call("GET", MAPPINGS_PATH, undefined, [200, 404, 400]);
    if (res.status !== 200) return undefined;
    const rows = (await res.json()) as HostMapping[] | null;
    return Array.isArray(rows) ? rows : [];
  };

  /** Loads the base config around `rows` unless Caddy already runs exactly that (no reload, no ACME aborted). */
  const assertBase = async (rows: HostMapping[]) => {
    const want = baseConfig(opts, rows);
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

  // Set when a change failed midway: the next one re-reads Caddy's table before planning.
  let stale = true;

  /** Applies one route change with one admin call, planned against the table in memory. */
  const change = (id: string, route?: Route) =>
    lock.run(async () => {
      if (stale) remember((await readTable()) ?? table);
      stale = false;
      const { next, call } = planChange(table, id, route);
      if (!call) return;
      try {
        const res = await admin.call(call.method, call.path, call.body, [200, 404, 400]);
        // Our row or our whole config is missing (Caddy restarted without --resume): write the table whole.
        if (res.status !== 200) await writeTable(next);
        remember(next);
      } catch (err) {
        stale = true;
        throw err;
      }
    });

  return {
    async init() {
      await lock.run(async () => {
        const current = (await readTable()) ?? table;
        await assertBase(current);
        remember(current);
        stale = false;
      });
    },

    async setRoute(route: Route) {
      const r = validRoute(route);
      await change(r.id, r);
      log.debug("route set", { route: r.id, upstream: r.upstream });
    },

    async removeRoute(id: string) {
      await change(id);
      log.debug("route removed", { route: id });
    },

    async syncRoutes(routes: Route[]) {
      const rows = routes.map(validRoute).reduce((t, r) => withRoute(t, r.id, r), [] as HostMapping[]);
      await lock.run(async () => {
        try {
          await writeTable(rows);
          stale = false;
        } catch (err) {
          stale = true;
          throw err;
        }
      });
    },

    async listRoutes() {
      const rows = await lock.run(async () => {
        const current = await readTable();
        if (current === undefined) throw new Upstream("caddy", "staxa config not loaded");
        remember(current);
        stale = false;
        return current;
      });
      return routesFromMappings(rows);
    },

    hasHost(host: string) {
      return hosts.has(host.toLowerCase());
    },
  } satisfies Proxy;
}
