// Cost of a route change as tenants grow: the store's table served by the resolver vs one Caddy route per tenant.
// `bun bench/routes/run.ts`
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCaddy } from "../../test/support/caddy.ts";
import { startResolver } from "../../test/support/resolver.ts";
import { openDb, migrate } from "../../src/store/db.ts";
import { createCaddyProxy } from "../../src/proxy/caddy.ts";
import { baseConfig, proxyOptions } from "../../src/proxy/config.ts";
import { loadConfig } from "../../src/config.ts";
import type { Route } from "../../src/proxy/types.ts";

const SIZES = [1, 1000, 10_000];
/** One Caddy route per tenant is only measured this far: its cost is already clear (and a 10,000-route load takes long). */
const PER_ROUTE_MAX = 1000;
const SAMPLES = 15;
const caddy = await startCaddy({ adminPort: 23401 });
const dataDir = mkdtempSync(join(tmpdir(), "staxa-bench-routes-"));
const env = {
  STAXA_DATA_DIR: dataDir,
  STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
  STAXA_LOG_LEVEL: "error",
  STAXA_HTTP_PORT: "23480",
  STAXA_HTTPS_PORT: "23443",
  STAXA_PORT: "23499",
  STAXA_ACME_CA: "internal",
  STAXA_PUBLIC_SCHEME: "http",
};
const db = openDb(join(dataDir, "staxa.db"));
migrate(db);
const resolver = await startResolver(env);
const config = loadConfig({ ...env, STAXA_RESOLVER_PORT: String(resolver.port) });
const route = (i: number): Route => ({
  id: `t${i}.web`,
  hosts: [`t${i}.staxa.test`],
  upstream: `172.18.${i % 250}.${(i % 200) + 2}:3000`,
  tls: false,
});
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = async (fn: () => Promise<unknown>) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};

const app = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("added") });
/** Polls through Caddy until `host` answers with the new upstream's body. */
async function served(host: string) {
  for (;;) {
    const res = await fetch("http://127.0.0.1:23480/", { headers: { host } });
    if (res.status === 200 && (await res.text()) === "added") return;
  }
}

/**
 * The design in use: a route is a row of the store's table; the resolver process serves it to Caddy's lookups.
 * add = until the new host answers through Caddy; switch = setRoute of an existing route (no request in between).
 */
async function tableDesign(n: number) {
  const proxy = createCaddyProxy(config, db);
  await proxy.init();
  await proxy.syncRoutes(Array.from({ length: n }, (_, i) => route(i)));
  const add: number[] = [],
    swap: number[] = [];
  for (let k = 0; k < SAMPLES; k++) {
    const r = { ...route(100_000 + k), upstream: `127.0.0.1:${app.port}` };
    const t0 = performance.now();
    await proxy.setRoute(r);
    await served(r.hosts[0]!);
    add.push(performance.now() - t0);
    swap.push(await time(() => proxy.setRoute({ ...route(0), upstream: `10.9.${k}.2:3000` })));
    await proxy.removeRoute(r.id);
  }
  return { add: median(add), swap: median(swap) };
}

/** The alternative: one Caddy route per tenant (host matcher + its own reverse_proxy), added with one PUT. */
async function perRouteDesign(n: number) {
  const caddyRoute = (r: Route) => ({
    "@id": `staxa-route-${r.id}`,
    match: [{ host: r.hosts }],
    handle: [{ handler: "reverse_proxy", upstreams: [{ dial: r.upstream }] }],
    terminal: true,
  });
  const cfg = baseConfig(proxyOptions(config)) as any;
  cfg.apps.http.servers.staxa.routes.unshift(...Array.from({ length: n }, (_, i) => caddyRoute(route(i))));
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(caddy.adminUrl + path, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then((r) => {
      if (!r.ok) throw new Error(`${method} ${path}: ${r.status}`);
    });
  await admin("POST", "/load", cfg);
  const add: number[] = [];
  for (let k = 0; k < SAMPLES; k++) {
    const r = route(100_000 + k);
    add.push(await time(() => admin("PUT", "/config/apps/http/servers/staxa/routes/0", caddyRoute(r))));
    await admin("DELETE", `/id/staxa-route-${r.id}`);
  }
  return { add: median(add) };
}

try {
  const rows: string[] = [];
  const base = await tableDesign(SIZES[0]!);
  const perBase = await perRouteDesign(SIZES[0]!);
  for (const n of SIZES) {
    const m = n === SIZES[0] ? base : await tableDesign(n);
    const p = n === SIZES[0] ? perBase : n <= PER_ROUTE_MAX ? await perRouteDesign(n) : undefined;
    rows.push(
      `${String(n).padStart(6)} tenants | store table + resolver: add ${m.add.toFixed(1)} ms (x${(m.add / base.add).toFixed(2)}), switch ${m.swap.toFixed(2)} ms (x${(m.swap / base.swap).toFixed(2)})` +
        (p ? ` | per-tenant Caddy routes: add ${p.add.toFixed(1)} ms (x${(p.add / perBase.add).toFixed(2)})` : ""),
    );
  }
  console.log(
    `route add/switch, median of ${SAMPLES}, real Caddy ${Bun.spawnSync(["caddy", "version"]).stdout.toString().trim()}`,
  );
  for (const r of rows) console.log(r);
} finally {
  app.stop(true);
  await resolver.kill();
  await caddy.stop();
  db.close();
  rmSync(dataDir, { recursive: true, force: true });
}
