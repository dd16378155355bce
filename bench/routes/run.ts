// Cost of a route change as tenants grow: our lookup + map proxy vs one Caddy route per tenant. `bun bench/routes/run.ts`
import { startCaddy } from "../../test/support/caddy.ts";
import { createCaddyProxy } from "../../src/proxy/caddy.ts";
import { baseConfig, proxyOptions } from "../../src/proxy/config.ts";
import { loadConfig } from "../../src/config.ts";
import type { Route } from "../../src/proxy/types.ts";

const SIZES = [1, 200, 1000];
const SAMPLES = 15;
const caddy = await startCaddy({ adminPort: 23401 });
const config = loadConfig({
  STAXA_DATA_DIR: "/tmp/staxa-bench-routes", STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
  STAXA_HTTP_PORT: "23480", STAXA_HTTPS_PORT: "23443", STAXA_PORT: "23499", STAXA_ACME_CA: "internal", STAXA_PUBLIC_SCHEME: "http",
});
const route = (i: number): Route => ({ id: `t${i}.web`, hosts: [`t${i}.staxa.test`], upstream: `172.18.${i % 250}.${(i % 200) + 2}:3000`, tls: false });
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
 * The design in use: a new route is served over the DNS lookup at once (add = until it answers), its row joins
 * the map table in the background (row = until Caddy's table has it); a switch rewrites one row.
 */
async function mapDesign(n: number) {
  const proxy = createCaddyProxy(config);
  await proxy.init();
  await proxy.syncRoutes(Array.from({ length: n }, (_, i) => route(i)));
  const add: number[] = [], row: number[] = [], swap: number[] = [];
  for (let k = 0; k < SAMPLES; k++) {
    const r = { ...route(100_000 + k), upstream: `127.0.0.1:${app.port}` };
    const t0 = performance.now();
    await proxy.setRoute(r);
    await served(r.hosts[0]!);
    add.push(performance.now() - t0);
    await proxy.listRoutes(); // waits for the background row write
    row.push(performance.now() - t0);
    swap.push(await time(() => proxy.setRoute({ ...route(0), upstream: `10.9.${k}.2:3000` })));
    await proxy.removeRoute(r.id);
  }
  return { add: median(add), row: median(row), swap: median(swap) };
}

/** The alternative: one Caddy route per tenant (host matcher + its own reverse_proxy), added with one PUT. */
async function perRouteDesign(n: number) {
  const caddyRoute = (r: Route) => ({ "@id": `staxa-route-${r.id}`, match: [{ host: r.hosts }], handle: [{ handler: "reverse_proxy", upstreams: [{ dial: r.upstream }] }], terminal: true });
  const cfg = baseConfig(proxyOptions(config)) as any;
  cfg.apps.http.servers.staxa.routes.unshift(...Array.from({ length: n }, (_, i) => caddyRoute(route(i))));
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(caddy.adminUrl + path, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) }).then((r) => {
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
  const mapBase = await mapDesign(SIZES[0]!);
  const perBase = await perRouteDesign(SIZES[0]!);
  for (const n of SIZES) {
    const m = n === SIZES[0] ? mapBase : await mapDesign(n);
    const p = n === SIZES[0] ? perBase : await perRouteDesign(n);
    rows.push(
      `${String(n).padStart(5)} tenants | lookup + map: add ${m.add.toFixed(1)} ms (x${(m.add / mapBase.add).toFixed(2)}), row ${m.row.toFixed(1)} ms, switch ${m.swap.toFixed(1)} ms` +
        ` | per-tenant routes: add ${p.add.toFixed(1)} ms (x${(p.add / perBase.add).toFixed(2)})`,
    );
  }
  console.log(`route add/switch, median of ${SAMPLES}, real Caddy ${Bun.spawnSync(["caddy", "version"]).stdout.toString().trim()}`);
  for (const r of rows) console.log(r);
} finally {
  app.stop(true);
  await caddy.stop();
}
