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

const out: string[] = [];
type App = Awaited<ReturnType<typeof e2eApp>>;

/**
 * p99 of GET /tenants/{id} (a random tenant each time) and GET /tenants?limit=20 on a small and a big appliance,
 * request by request in turn: both see the same machine load, so the ratio is the tenants' cost and not the noise.
 */
async function requests(small: App, smallIds: string[], big: App, bigIds: string[], n = 1500) {
  const p99 = { small: { one: [] as number[], list: [] as number[] }, big: { one: [] as number[], list: [] as number[] } };
  const time = async (h: App, path: string, into: number[], keep: boolean) => {
    const t = performance.now();
    const r = await h.call("GET", path);
    if (keep) into.push(performance.now() - t);
    if (r.status !== 200) throw new Error(`GET ${path} answered ${r.status}`);
  };
  for (let i = 0; i < n + 200; i++) {
    const keep = i >= 200;
    const pick = (ids: string[]) => ids[Math.floor(Math.random() * ids.length)]!;
    await time(small, `/api/v1/tenants/${pick(smallIds)}`, p99.small.one, keep);
    await time(big, `/api/v1/tenants/${pick(bigIds)}`, p99.big.one, keep);
    await time(small, "/api/v1/tenants?limit=20", p99.small.list, keep);
    await time(big, "/api/v1/tenants?limit=20", p99.big.list, keep);
  }
  const of = (x: { one: number[]; list: number[] }) => ({ one: pct(x.one, 0.99), list: pct(x.list, 0.99) });
  return { small: of(p99.small), big: of(p99.big) };
}

/** Median cost of adding a route and of switching one to a new upstream (what a redeploy does), in turn on both. */
async function routeChanges(small: App, smallRoute: Route, big: App, bigRoute: Route, samples = 31) {
  const cost = { small: { add: [] as number[], swap: [] as number[] }, big: { add: [] as number[], swap: [] as number[] } };
  for (let k = 0; k < samples; k++) {
    for (const [h, existing, into] of [
      [small, smallRoute, cost.small],
      [big, bigRoute, cost.big],
    ] as const) {
      const r: Route = {
        id: `${PREFIX}-new${k}.web`,
        hosts: [`${PREFIX}-new${k}.scale.test`],
        upstream: `10.239.255.${k + 2}:3000`,
        tls: false,
      };
      let t = performance.now();
      await h.ctx.proxy.setRoute(r);
      into.add.push(performance.now() - t);
      t = performance.now();
      await h.ctx.proxy.setRoute({ ...existing, upstream: existing.upstream.replace(/:\d+$/, k % 2 ? ":3000" : ":3001") });
      into.swap.push(performance.now() - t);
      await h.ctx.proxy.removeRoute(r.id);
    }
  }
  await small.ctx.proxy.setRoute(smallRoute);
  await big.ctx.proxy.setRoute(bigRoute);
  const of = (x: { add: number[]; swap: number[] }) => ({ add: pct(x.add, 0.5), swap: pct(x.swap, 0.5) });
  return { small: of(cost.small), big: of(cost.big) };
}

/** The four lines both comparisons print. */
function compare(
  base: { add: number; swap: number; one: number; list: number },
  big: { add: number; swap: number; one: number; list: number },
) {
  out.push(`  route add               ${ms(base.add)} -> ${ms(big.add)}  ${ratio(big.add, base.add)}  (target <= x1.5)`);
  out.push(`  route switch            ${ms(base.swap)} -> ${ms(big.swap)}  ${ratio(big.swap, base.swap)}  (target <= x1.5)`);
  out.push(`  GET /tenants/{id} p99   ${ms(base.one)} -> ${ms(big.one)}  ${ratio(big.one, base.one)}  (target <= x2)`);
  out.push(`  GET /tenants?limit=20   ${ms(base.list)} -> ${ms(big.list)}  ${ratio(big.list, base.list)}  p99 (target <= x2)`);
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
try {
  // 1. Tenant rows: an appliance with 1 and one with ROWS (and as many routes), measured in turn.
  {
    const small = await e2eApp(env);
    const big = await e2eApp(env);
    const providerOf = (h: App) =>
      h.ctx.db.query<{ provider_id: string }, []>("SELECT provider_id FROM api_keys LIMIT 1").get()!.provider_id;
    const one = insertTenants(small.ctx, providerOf(small), `${PREFIX}r`, 0, 1);
    const many = insertTenants(big.ctx, providerOf(big), `${PREFIX}m`, 0, ROWS);
    const routeOf = (name: string, upstream: string): Route => ({
      id: `${name}.web`,
      hosts: [`${name}.scale.test`],
      upstream,
      tls: false,
    });
    const smallRoute = routeOf(one[0]!.tenant.name, "10.239.0.2:3000");
    const bigRoutes = many.map((r, i) => routeOf(r.tenant.name, `10.238.${i >> 8}.${i & 255}:3000`));
    await small.ctx.proxy.syncRoutes([smallRoute]);
    await big.ctx.proxy.syncRoutes(bigRoutes);
    const ids = (rows: typeof many) => rows.map((r) => r.tenant.id);
    const req = await requests(small, ids(one), big, ids(many));
    const rc = await routeChanges(small, smallRoute, big, bigRoutes[0]!);
    out.push(`${ROWS} vs 1 tenant rows (two appliances, measured in turn):`);
    compare({ ...req.small, ...rc.small }, { ...req.big, ...rc.big });
  }
  // 2. Live tenants: an appliance with 1 and one with LIVE, each tenant a container on its own network.
  {
    const small = await e2eApp(env);
    const big = await e2eApp(env);
    await recoverSubnets(small.ctx);
    const providerOf = (h: App) =>
      h.ctx.db.query<{ provider_id: string }, []>("SELECT provider_id FROM api_keys LIMIT 1").get()!.provider_id;
    const one = insertTenants(small.ctx, providerOf(small), `${PREFIX}l`, 0, 1);
    const smallRoutes = await startLive(small.ctx, one, 1);
    await small.ctx.proxy.syncRoutes(smallRoutes);
    let t = performance.now();
    await reconcile(small.ctx);
    const reconcile1 = performance.now() - t;
    await recoverSubnets(big.ctx);
    const rssBefore = rssMb();
    const many = insertTenants(big.ctx, providerOf(big), `${PREFIX}n`, 0, LIVE);
    t = performance.now();
    const bigRoutes = await startLive(big.ctx, many, 4);
    const startMin = (performance.now() - t) / 60000;
    await big.ctx.proxy.syncRoutes(bigRoutes);
    t = performance.now();
    const rep = await reconcile(big.ctx);
    const reconcileN = performance.now() - t;
    const rssAfter = rssMb();
    const req = await requests(
      small,
      one.map((r) => r.tenant.id),
      big,
      many.map((r) => r.tenant.id),
    );
    const rc = await routeChanges(small, smallRoutes[0]!, big, bigRoutes[0]!);
    const before = await caddyRevision();
    for (let i = 0; i < 100; i++)
      await big.ctx.proxy.setRoute({
        ...bigRoutes[0]!,
        upstream: bigRoutes[0]!.upstream.replace(/:\d+$/, i % 2 ? ":3000" : ":3001"),
      });
    const after = await caddyRevision();
    out.push(
      `${LIVE} vs 1 live tenants (two appliances, measured in turn; ${LIVE} containers started in ${startMin.toFixed(1)} min):`,
    );
    compare({ ...req.small, ...rc.small }, { ...req.big, ...rc.big });
    out.push(
      `  start-up reconciliation ${ms(reconcile1)} -> ${(reconcileN / 1000).toFixed(1)} s  (kept ${rep.kept}, restored ${rep.restored.length}; target <= 30 s)`,
    );
    out.push(
      `  appliance RSS           ${rssBefore.toFixed(0)} MB -> ${rssAfter.toFixed(0)} MB with ${LIVE} live tenants: ${(((rssAfter - rssBefore) * 1024) / LIVE).toFixed(0)} KB per live tenant (target <= 100 KB)`,
    );
    out.push(
      `  Caddy config revision   ${before} -> ${after} across 100 redeploys: ${before === after ? "unchanged" : "CHANGED"}`,
    );
  }
  console.log(
    `bench/scale, ${new Date().toISOString().slice(0, 10)}, ${navigator.hardwareConcurrency} cores, Caddy ${Bun.spawnSync(["caddy", "version"]).stdout.toString().split(" ")[0]}`,
  );
  for (const l of out) console.log(l);
} catch (e) {
  // printed here: the exit in `finally` would otherwise end the run before the error surfaces
  console.error(e);
  process.exitCode = 1;
} finally {
  await removeByPrefix(`staxa-${PREFIX}`);
  await caddy.stop();
  process.exit();
}
