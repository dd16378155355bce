// bench/scale: what a request, a route change and a start-up cost at 10,000 tenant rows and at N live tenants
// against 1 (issue 18). Run: bun run bench/scale/run.ts   (real Docker and Caddy; BENCH_LIVE=1000 by default,
// BENCH_ROWS=10000). Live tenants are busybox httpd containers, each on its own network of the subnet pool.
import { startCaddy } from "../../test/support/caddy.ts";
import { ensureTestImages, removeByPrefix, uniqueName } from "../../test/support/docker.ts";
import { e2eApp } from "../../test/support/e2e-app.ts";
import { reconcile } from "../../src/core/deploy/reconcile.ts";
import { recoverSubnets } from "../../src/core/network/subnets.ts";
import type { Route } from "../../src/proxy/types.ts";
import { insertTenants, startLive } from "./live.ts";

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000);
const LIVE = Number(process.env.BENCH_LIVE ?? 1000);
const PREFIX = uniqueName("bsc");
const ADMIN = 23600 + Math.floor(Math.random() * 100) * 3;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const ratio = (a: number, b: number) => `x${(a / b).toFixed(2)}`;
const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 0)} ms`;

await ensureTestImages();
const caddy = await startCaddy({ adminPort: ADMIN });
const env = {
  STAXA_BASE_DOMAIN: "scale.test",
  STAXA_PUBLIC_SCHEME: "http",
  STAXA_HTTP_PORT: String(ADMIN + 1),
  STAXA_HTTPS_PORT: String(ADMIN + 2),
  STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
  STAXA_TENANT_LIMIT: "100000",
  STAXA_LOG_LEVEL: "error",
};

/** p99 of GET /tenants/{id} (a random tenant each time) and GET /tenants?limit=20, in interleaved rounds. */
async function requests(h: Awaited<ReturnType<typeof e2eApp>>, ids: string[], n = 1500) {
  const one: number[] = [],
    list: number[] = [];
  for (let i = 0; i < n + 200; i++) {
    const id = ids[Math.floor(Math.random() * ids.length)]!;
    let t = performance.now();
    const a = await h.call("GET", `/api/v1/tenants/${id}`);
    if (i >= 200) one.push(performance.now() - t);
    t = performance.now();
    const b = await h.call("GET", "/api/v1/tenants?limit=20");
    if (i >= 200) list.push(performance.now() - t);
    if (a.status !== 200 || b.status !== 200) throw new Error(`GET answered ${a.status}/${b.status}`);
  }
  return { one: pct(one, 0.99), list: pct(list, 0.99) };
}

/** Median cost of adding a route and of switching one to a new upstream (what a redeploy does), through the Proxy. */
async function routeChanges(h: Awaited<ReturnType<typeof e2eApp>>, existing: Route, samples = 15) {
  const add: number[] = [],
    swap: number[] = [];
  for (let k = 0; k < samples; k++) {
    const r: Route = {
      id: `${PREFIX}-new${k}.web`,
      hosts: [`${PREFIX}-new${k}.scale.test`],
      upstream: `10.239.255.${k + 2}:3000`,
      tls: false,
    };
    let t = performance.now();
    await h.ctx.proxy.setRoute(r);
    add.push(performance.now() - t);
    t = performance.now();
    await h.ctx.proxy.setRoute({ ...existing, upstream: existing.upstream.replace(/:\d+$/, k % 2 ? ":3000" : ":3001") });
    swap.push(performance.now() - t);
    await h.ctx.proxy.removeRoute(r.id);
  }
  await h.ctx.proxy.setRoute(existing);
  return { add: pct(add, 0.5), swap: pct(swap, 0.5) };
}

/** Caddy's config revision as its admin API reports it (the ETag of GET /config/). */
async function caddyRevision(): Promise<string> {
  const res = await fetch(`${caddy.adminUrl}/config/`);
  const body = await res.text();
  // Caddy 2.6 sends no ETag on GET /config/: the hash of the config it returns stands for its revision.
  return res.headers.get("etag") ?? `sha1:${new Bun.CryptoHasher("sha1").update(body).digest("hex").slice(0, 12)}`;
}

const rssMb = () => {
  Bun.gc(true);
  return process.memoryUsage().rss / 1048576;
};
const out: string[] = [];
try {
  // 1. Tenant rows: 1, then ROWS (and as many routes), in one store.
  {
    const h = await e2eApp(env);
    const prv = h.ctx.db.query<{ provider_id: string }, []>("SELECT provider_id FROM api_keys LIMIT 1").get()!.provider_id;
    const first = insertTenants(h.ctx, prv, `${PREFIX}r`, 0, 1);
    const route0: Route = {
      id: `${first[0]!.tenant.name}.web`,
      hosts: [`${first[0]!.tenant.name}.scale.test`],
      upstream: "10.239.0.2:3000",
      tls: false,
    };
    await h.ctx.proxy.syncRoutes([route0]);
    const base = { ...(await requests(h, [first[0]!.tenant.id])), ...(await routeChanges(h, route0)) };
    const rest = insertTenants(h.ctx, prv, `${PREFIX}r`, 1, ROWS - 1);
    await h.ctx.proxy.syncRoutes([
      route0,
      ...rest.map((r, i) => ({
        id: `${r.tenant.name}.web`,
        hosts: [`${r.tenant.name}.scale.test`],
        upstream: `10.238.${i >> 8}.${i & 255}:3000`,
        tls: false,
      })),
    ]);
    const big = {
      ...(await requests(h, [first[0]!.tenant.id, ...rest.map((r) => r.tenant.id)])),
      ...(await routeChanges(h, route0)),
    };
    out.push(`${ROWS} vs 1 tenant rows:`);
    out.push(`  route add               ${ms(base.add)} -> ${ms(big.add)}  ${ratio(big.add, base.add)}  (target <= x1.5)`);
    out.push(`  route switch            ${ms(base.swap)} -> ${ms(big.swap)}  ${ratio(big.swap, base.swap)}  (target <= x1.5)`);
    out.push(`  GET /tenants/{id} p99   ${ms(base.one)} -> ${ms(big.one)}  ${ratio(big.one, base.one)}  (target <= x2)`);
    out.push(`  GET /tenants?limit=20   ${ms(base.list)} -> ${ms(big.list)}  ${ratio(big.list, base.list)}  p99 (target <= x2)`);
  }
  // 2. Live tenants: 1, then LIVE, each a container on its own network.
  {
    const h = await e2eApp(env);
    await recoverSubnets(h.ctx);
    const prv = h.ctx.db.query<{ provider_id: string }, []>("SELECT provider_id FROM api_keys LIMIT 1").get()!.provider_id;
    const first = insertTenants(h.ctx, prv, `${PREFIX}l`, 0, 1);
    const routes = await startLive(h.ctx, first, 1);
    await h.ctx.proxy.syncRoutes(routes);
    let t = performance.now();
    await reconcile(h.ctx);
    const reconcile1 = performance.now() - t;
    const base = { ...(await requests(h, [first[0]!.tenant.id])), ...(await routeChanges(h, routes[0]!)), rss: rssMb() };
    const rest = insertTenants(h.ctx, prv, `${PREFIX}l`, 1, LIVE - 1);
    t = performance.now();
    routes.push(...(await startLive(h.ctx, rest, 4)));
    const startMin = (performance.now() - t) / 60000;
    await h.ctx.proxy.syncRoutes(routes);
    t = performance.now();
    const rep = await reconcile(h.ctx);
    const reconcileN = performance.now() - t;
    const big = {
      ...(await requests(h, [first[0]!.tenant.id, ...rest.map((r) => r.tenant.id)])),
      ...(await routeChanges(h, routes[0]!)),
      rss: rssMb(),
    };
    const before = await caddyRevision();
    for (let i = 0; i < 100; i++)
      await h.ctx.proxy.setRoute({ ...routes[0]!, upstream: routes[0]!.upstream.replace(/:\d+$/, i % 2 ? ":3000" : ":3001") });
    const after = await caddyRevision();
    out.push(`${LIVE} vs 1 live tenants (${LIVE} containers started in ${startMin.toFixed(1)} min):`);
    out.push(`  route add               ${ms(base.add)} -> ${ms(big.add)}  ${ratio(big.add, base.add)}  (target <= x1.5)`);
    out.push(`  route switch            ${ms(base.swap)} -> ${ms(big.swap)}  ${ratio(big.swap, base.swap)}  (target <= x1.5)`);
    out.push(`  GET /tenants/{id} p99   ${ms(base.one)} -> ${ms(big.one)}  ${ratio(big.one, base.one)}  (target <= x2)`);
    out.push(`  GET /tenants?limit=20   ${ms(base.list)} -> ${ms(big.list)}  ${ratio(big.list, base.list)}  p99 (target <= x2)`);
    out.push(
      `  start-up reconciliation ${ms(reconcile1)} -> ${(reconcileN / 1000).toFixed(1)} s  (kept ${rep.kept}, restored ${rep.restored.length}; target <= 30 s)`,
    );
    out.push(
      `  appliance RSS           ${base.rss.toFixed(0)} MB -> ${big.rss.toFixed(0)} MB: ${(((big.rss - base.rss) * 1024) / (LIVE - 1)).toFixed(0)} KB per live tenant (target <= 100 KB)`,
    );
    out.push(
      `  Caddy config revision   ${before} -> ${after} across 100 redeploys: ${before === after ? "unchanged" : "CHANGED"}`,
    );
  }
  console.log(
    `bench/scale, ${new Date().toISOString().slice(0, 10)}, ${navigator.hardwareConcurrency} cores, Caddy ${Bun.spawnSync(["caddy", "version"]).stdout.toString().split(" ")[0]}`,
  );
  for (const l of out) console.log(l);
} finally {
  await removeByPrefix(`staxa-${PREFIX}`);
  await caddy.stop();
  process.exit(0);
}
