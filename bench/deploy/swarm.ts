// bench/deploy (d): the swarm engine's POST → ready against the single-host engine's, the same git tenant on both
// (a Dockerfile app: clone, build, run, health, route), measured in turn in one run, each commit new so no build
// reuses the other's COPY layer. The swarm side runs on a lab (test/support/swarm-lab.ts: a manager and a worker,
// each a dockerd in its own network namespace) with the cluster registry (`staxa registry` on the lab's gateway):
// it builds on the manager, pushes, and its 2 tasks pull by digest; the single host runs 2 replicas too. Each
// appliance has its own Caddy. Run: bun run bench/deploy/swarm.ts (also run.ts's last section); BENCH_RUNS pairs.
import { rmSync } from "node:fs";
import { startCaddy, type TestCaddy } from "../../test/support/caddy.ts";
import { BUSYBOX_IMAGE, dockerCli, ensureTestImages, removeByPrefix, uniqueName } from "../../test/support/docker.ts";
import { commitVersion, e2eApp, fixtureRepo, viaCaddy } from "../../test/support/e2e-app.ts";
import { startSwarmLab, stopSwarmLab } from "../../test/support/swarm-lab.ts";
import { allowRegistryPulls, enableLabBuilds, startClusterRegistry } from "../../test/support/cluster-registry.ts";

const LAB = "bch";
const SUBNET = 6;
const REPLICAS = 2;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type App = Awaited<ReturnType<typeof e2eApp>>;

async function appliance(engine: Record<string, string>, admin: number): Promise<{ h: App; caddy: TestCaddy; http: number }> {
  const caddy = await startCaddy({ adminPort: admin });
  const h = await e2eApp({
    ...engine,
    STAXA_BASE_DOMAIN: "bench-swarm.test",
    STAXA_PUBLIC_SCHEME: "http",
    STAXA_HTTP_PORT: String(admin + 1),
    STAXA_HTTPS_PORT: String(admin + 2),
    STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
    STAXA_ALLOW_FILE_REPOS: "1",
    STAXA_DRAIN_SEC: "0",
    STAXA_HEALTH_TIMEOUT_SEC: "60",
  });
  return { h, caddy, http: admin + 1 };
}

/** POST → deployment succeeded (polled every 10 ms, as run.ts's (a) does), then one request through Caddy (not timed). */
async function postToReady(a: { h: App; http: number }, name: string, repo: string): Promise<number> {
  await commitVersion(repo, `${name} ${Date.now()}`);
  const t0 = performance.now();
  const r = await a.h.call("POST", "/api/v1/tenants", {
    name,
    source_type: "github",
    repo_url: `file://${repo}`,
    app_port: 3000,
    replicas: REPLICAS,
  });
  if (r.status !== 202) throw new Error(`POST ${name}: ${r.status} ${r.text}`);
  const depId = (await a.h.call("GET", `/api/v1/tenants/${r.json.data.id}/deployments`)).json.data[0].id;
  for (const deadline = Date.now() + 180_000; Date.now() < deadline; await Bun.sleep(10)) {
    const d = (await a.h.call("GET", `/api/v1/tenants/${r.json.data.id}/deployments/${depId}`)).json.data;
    if (d.status === "failed") throw new Error(`${name}: deployment failed: ${d.reason}`);
    if (d.status !== "succeeded") continue;
    const took = performance.now() - t0;
    if (process.env.BENCH_VERBOSE) console.log(`   ${name}`, JSON.stringify({ ...d.timings, bench_ms: Math.round(took) }));
    const res = await viaCaddy(a.http, `${name}.bench-swarm.test`);
    if (res.status !== 200) throw new Error(`${name}: ready but Caddy answered ${res.status}`);
    return took;
  }
  throw new Error(`${name}: not ready within 180 s`);
}

export async function benchSwarm(runs = Number(process.env.BENCH_RUNS ?? 3)): Promise<{ single: number; swarm: number }> {
  const prefix = uniqueName("bsw");
  const admin = 23100 + Math.floor(Math.random() * 30) * 6;
  await ensureTestImages();
  const labUp = performance.now();
  const lab = await startSwarmLab({ id: LAB, subnet: SUBNET, workers: 1, images: [BUSYBOX_IMAGE] });
  const sides: Array<{ h: App; caddy: TestCaddy; http: number }> = [];
  const repo = await fixtureRepo("bench swarm v0");
  let stopRegistry = async () => {};
  try {
    await enableLabBuilds(lab.manager.socket); // the appliance builds on the manager's engine
    await allowRegistryPulls(lab.nodes[1]!, lab.manager.socket); // the worker pulls from the cluster registry
    const registry = await startClusterRegistry(lab.gateway);
    stopRegistry = registry.stop;
    console.log(
      `    (lab of a manager and a worker, and its registry, up in ${((performance.now() - labUp) / 1000).toFixed(1)} s)`,
    );
    const single = await appliance({}, admin);
    sides.push(single);
    const swarm = await appliance({ STAXA_ENGINE: "swarm", STAXA_DOCKER_SOCKET: lab.manager.socket, ...registry.env }, admin + 3);
    sides.push(swarm);
    const t = { single: [] as number[], swarm: [] as number[] };
    // In turn: a load spike on the shared machine lands on both sides alike.
    for (let i = 0; i < runs; i++) {
      t.single.push(await postToReady(single, `${prefix}-h${i}`, repo));
      t.swarm.push(await postToReady(swarm, `${prefix}-s${i}`, repo));
    }
    const res = { single: median(t.single), swarm: median(t.swarm) };
    console.log(
      `(d) swarm engine: git tenant (${REPLICAS} replicas) POST→ready ${res.swarm.toFixed(0)} ms (1 manager + 1 worker) / single host ${res.single.toFixed(0)} ms = ${(res.swarm / res.single).toFixed(2)}x (target ≤ 1.5x; median of ${runs}: swarm ${t.swarm.map((x) => x.toFixed(0)).join(", ")}; single ${t.single.map((x) => x.toFixed(0)).join(", ")})`,
    );
    return res;
  } finally {
    for (const s of sides) {
      await s.h.resolver.kill();
      await s.caddy.stop();
      rmSync(s.h.dataDir, { recursive: true, force: true });
    }
    await removeByPrefix(`staxa-${prefix}`); // the single host's containers and networks
    const imgs = (await dockerCli(["images", "-q", "--filter", `reference=staxa/${prefix}*`])).out.split("\n").filter(Boolean);
    if (imgs.length) await dockerCli(["rmi", "-f", ...new Set(imgs)]);
    await stopRegistry();
    await stopSwarmLab(LAB); // the swarm side's services, overlays, tasks and images go with the lab
    rmSync(repo, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  await benchSwarm();
  process.exit(0);
}
