// bench/deploy: (a) control-plane overhead = POST→ready through the API / the same clone+build+run+200 by a
// plain script; (b) route switch time; (c) cost of adding a route with 200 tenants routed vs with 1.
// (d) the swarm engine's POST→ready vs the single host's (bench/deploy/swarm.ts; BENCH_SWARM=0 leaves it out).
// Run: bun run bench/deploy/run.ts   (real Docker, a throwaway Caddy on ports 22900-22999)
// BENCH_RUNS=5 for more pairs; BENCH_VERBOSE=1 prints each side's steps (plain: clone/build/network/run/health;
// API: the deployment's stage timings and every Docker/git/Caddy call of the pipeline with its duration).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCaddy } from "../../test/support/caddy.ts";
import { dockerCli, ensureTestImages, removeByPrefix, uniqueName } from "../../test/support/docker.ts";
import { commitVersion, e2eApp, fixtureRepo, git } from "../../test/support/e2e-app.ts";
import { startResolver } from "../../test/support/resolver.ts";
import { openDb, migrate } from "../../src/store/db.ts";
import { createCaddyProxy } from "../../src/proxy/caddy.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PREFIX = uniqueName("bdp");
const ADMIN = 22900 + Math.floor(Math.random() * 30) * 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (n: number) => `${n < 10 ? n.toFixed(2) : n.toFixed(0)} ms`;

async function run(argv: string[]): Promise<string> {
  const p = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`${argv.join(" ")}: ${err}`);
  return out.trim();
}

/** The plain script: git clone, docker build, docker run on a bridge network, poll until HTTP 200. */
async function baseline(repo: string, i: number): Promise<number> {
  const dir = join("/tmp", `${PREFIX}-clone-${i}`);
  const net = `staxa-${PREFIX}-base-${i}`;
  const t0 = performance.now();
  const steps: Record<string, number> = {};
  let last = t0;
  const step = (name: string) => {
    const now = performance.now();
    steps[`${name}_ms`] = Math.round(now - last);
    last = now;
  };
  await run(["git", "clone", "-q", "--depth", "50", "--", `file://${repo}`, dir]);
  step("clone");
  await run(["docker", "build", "-q", "-t", `staxa/${PREFIX}-base:${i}`, dir]);
  step("build");
  await run(["docker", "network", "create", net]);
  step("network");
  const id = await run(["docker", "run", "-d", "--name", `${net}-c`, "--network", net, `staxa/${PREFIX}-base:${i}`]);
  step("run");
  const ip = await run(["docker", "inspect", "-f", `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, id]);
  for (;;) {
    try {
      if ((await fetch(`http://${ip}:3000/`, { signal: AbortSignal.timeout(1000) })).status === 200) break;
    } catch {}
    await Bun.sleep(25);
  }
  step("health");
  const t = performance.now() - t0;
  if (process.env.BENCH_VERBOSE) console.log("   plain  ", JSON.stringify({ ...steps, total_ms: Math.round(t) }));
  rmSync(dir, { recursive: true, force: true });
  return t;
}

/** Polls the deployment every 10 ms (the plain script polls its app every 25 ms; a coarser poll here would be counted as overhead). */
async function waitDeployment(
  tenantId: string,
  depId: string,
): Promise<{ status: string; reason?: string; timings: Record<string, number> }> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const d = (await h.call("GET", `/api/v1/tenants/${tenantId}/deployments/${depId}`)).json.data;
    if (d.status === "succeeded" || d.status === "failed") return d;
    await Bun.sleep(10);
  }
  throw new Error(`deployment ${depId} did not finish`);
}

await ensureTestImages();
const caddy = await startCaddy({ adminPort: ADMIN });
const httpPort = ADMIN + 1;
const h = await e2eApp({
  STAXA_BASE_DOMAIN: "bench.test",
  STAXA_PUBLIC_SCHEME: "http",
  STAXA_HTTP_PORT: String(httpPort),
  STAXA_HTTPS_PORT: String(ADMIN + 2),
  STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
  STAXA_ALLOW_FILE_REPOS: "1",
  STAXA_ALLOW_PRIVATE_TARGETS: "1",
  STAXA_DRAIN_SEC: "0",
});
const repo = await fixtureRepo("bench v0");
// BENCH_VERBOSE: how long each outside call of the pipeline takes (the stages' own timings hide what is between them).
const calls: string[] = [];
if (process.env.BENCH_VERBOSE) {
  const wrap = (obj: Record<string, unknown>, name: string, label: string) => {
    const fn = obj[name] as (...a: unknown[]) => Promise<unknown>;
    obj[name] = async (...a: unknown[]) => {
      const t0 = performance.now();
      try {
        return await fn.apply(obj, a);
      } finally {
        calls.push(`${label} ${Math.round(performance.now() - t0)}`);
      }
    };
  };
  for (const m of ["ensureNetwork", "buildImage", "startContainer", "inspectContainer", "findImage"])
    wrap(h.ctx.runtime as never, m, m);
  wrap(h.ctx.git as never, "clone", "clone");
  wrap(h.ctx.proxy as never, "setRoute", "setRoute");
}
try {
  // (a) overhead: each run commits new content so neither side gets the COPY layer from cache.
  const plain: number[] = [];
  const api: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await commitVersion(repo, `baseline ${i} ${Date.now()}`);
    plain.push(await baseline(repo, i));
    await commitVersion(repo, `api ${i} ${Date.now()}`);
    calls.length = 0;
    const t0 = performance.now();
    const r = await h.call("POST", "/api/v1/tenants", {
      name: `${PREFIX}-a${i}`,
      source_type: "github",
      repo_url: `file://${repo}`,
      app_port: 3000,
    });
    const posted = performance.now() - t0;
    const d = await waitDeployment(r.json.data.id, r.json.data.deployments[0].id);
    api.push(performance.now() - t0);
    if (process.env.BENCH_VERBOSE)
      console.log(
        "   api    ",
        JSON.stringify({ post_ms: Math.round(posted), ...d.timings, bench_ms: Math.round(performance.now() - t0) }),
        calls.join(", "),
      );
    if (d.status !== "succeeded") throw new Error(`deployment failed: ${d.reason}`);
  }
  const ratio = median(api) / median(plain);
  console.log(
    `(a) control-plane overhead: API POST→ready ${ms(median(api))} / plain script ${ms(median(plain))} = ${ratio.toFixed(3)} (target ≤ 1.15; median of ${RUNS})`,
  );

  // (b) route switch: the route stage of a redeploy, and one setRoute of an existing route.
  const t = (await h.call("GET", "/api/v1/tenants?limit=1&sort=-created_at")).json.data[0];
  const dep = await h.call("POST", `/api/v1/tenants/${t.id}/deployments`, {});
  const done = await waitDeployment(t.id, dep.json.data.id);
  console.log(`(b) route switch: route stage of a redeploy ${ms(done.timings.route_ms)}`);

  // (c) route-add cost: a fresh Caddy, table of 1 vs 200 routes, median of 20 adds each. Measured until the new
  // host ANSWERS through Caddy (not just until setRoute returns).
  const caddy2 = await startCaddy({ adminPort: ADMIN + 60 });
  // Its own store and resolver: the 200 routes below must not replace the bench tenants' routes.
  const dir2 = mkdtempSync(join(tmpdir(), "staxa-bench-deploy-"));
  const db2 = openDb(join(dir2, "staxa.db"));
  migrate(db2);
  const resolver2 = await startResolver({ STAXA_DATA_DIR: dir2, STAXA_LOG_LEVEL: "error" });
  const proxy = createCaddyProxy(
    {
      ...h.config,
      dataDir: dir2,
      dbPath: join(dir2, "staxa.db"),
      resolverPort: resolver2.port,
      publicScheme: "http",
      caddyAdminUrl: caddy2.adminUrl,
      httpPort: ADMIN + 61,
      httpsPort: ADMIN + 62,
    },
    db2,
  );
  const app = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("added") });
  await proxy.init();
  const served = async (host: string) => {
    for (;;) {
      const res = await fetch(`http://127.0.0.1:${ADMIN + 61}/`, { headers: { host } });
      if (res.status === 200 && (await res.text()) === "added") return;
      await res.arrayBuffer().catch(() => undefined);
    }
  };
  const addCost = async (n: number) => {
    await proxy.syncRoutes(
      Array.from({ length: n }, (_, i) => ({
        id: `pre${i}.web`,
        hosts: [`pre${i}.bench.test`],
        upstream: `10.250.${i >> 8}.${i & 255}:3000`,
        tls: false,
      })),
    );
    const times: number[] = [],
      durable: number[] = [];
    for (let i = 0; i < 20; i++) {
      const host = `add${n}x${i}.bench.test`;
      const t0 = performance.now();
      await proxy.setRoute({ id: `add${n}x${i}.web`, hosts: [host], upstream: `127.0.0.1:${app.port}`, tls: false });
      durable.push(performance.now() - t0); // the row is in the store and the resolver has it
      await served(host);
      times.push(performance.now() - t0);
      await proxy.removeRoute(`add${n}x${i}.web`);
    }
    return { served: median(times), durable: median(durable) };
  };
  const one = await addCost(1);
  const many = await addCost(200);
  const t1 = performance.now();
  await proxy.setRoute({ id: "pre0.web", hosts: ["pre0.bench.test"], upstream: "10.252.0.1:3000", tls: false });
  console.log(`(b) route switch: one setRoute of an existing route with 200 routed ${ms(performance.now() - t1)}`);
  console.log(
    `(c) route add, until the host answers through Caddy: ${ms(one.served)} with 1 tenant, ${ms(many.served)} with 200 = ${(many.served / one.served).toFixed(2)}x (target ≤ 2x)`,
  );
  console.log(
    `    (setRoute itself, row written to the store and read by the resolver: ${ms(one.durable)} with 1, ${ms(many.durable)} with 200)`,
  );
  app.stop(true);
  await resolver2.kill();
  await caddy2.stop();
  db2.close();
  rmSync(dir2, { recursive: true, force: true });
} finally {
  for (const row of h.ctx.db.query("SELECT id FROM tenants").all() as Array<{ id: string }>)
    await h.call("DELETE", `/api/v1/tenants/${row.id}`);
  await Bun.sleep(3000);
  await removeByPrefix(`staxa-${PREFIX}`);
  const imgs = (await dockerCli(["images", "-q", "--filter", `reference=staxa/${PREFIX}*`])).out.split("\n").filter(Boolean);
  if (imgs.length) await dockerCli(["rmi", "-f", ...imgs]);
  await caddy.stop();
  rmSync(repo, { recursive: true, force: true });
  rmSync(h.dataDir, { recursive: true, force: true });
  void git;
}
// (d) the swarm engine vs the single host, the same git tenant in turn (its own appliances and a lab: swarm.ts).
if (process.env.BENCH_SWARM !== "0") await (await import("./swarm.ts")).benchSwarm(RUNS);
process.exit(0);
