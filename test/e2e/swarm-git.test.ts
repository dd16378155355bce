// A git tenant on a real two-node swarm with the cluster registry: the appliance builds on the manager's engine,
// pushes the image to `staxa registry` (started as an operator would, on the lab's gateway) and the service runs it by
// digest with the registry's credentials, so the worker pulls it from there (it never had it). Replicas 2 serve
// through Caddy from both nodes; PATCH replicas scales the Swarm service (2 → 3 → 1); removing the tenant's images
// deletes their manifests from the registry; an image tenant's pulled image is pushed and run from there too.
// The API's capabilities on the swarm engine, on that one tenant where possible (issue 21 point 1; the single-host
// suite is test/e2e/pipeline.test.ts): SSE stages, an env change redeploying the current image, tenant and service
// logs (tail and follow), a new commit and a rollback with no build, a job's one-off run, a custom domain, an egress
// mode change, live usage's documented 409; a web + db tenant (service discovery across nodes, db's volume backed up
// and restored on the manager, then deleted with its services and network); an app crashing at start.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { BUSYBOX_IMAGE, ensureTestImages } from "../support/docker.ts";
import { commitVersion, e2eApp, fixtureRepo, viaCaddy } from "../support/e2e-app.ts";
import { startSwarmLab, stopSwarmLab, type SwarmLab } from "../support/swarm-lab.ts";
import { startRouteFollower } from "../../src/core/deploy/route-follow.ts";
import { imageTag } from "../../src/core/resources.ts";
import {
  allowRegistryPulls,
  enableLabBuilds,
  startClusterRegistry,
  type ClusterRegistryHandle,
} from "../support/cluster-registry.ts";

const LAB = "reg";
const BASE = "e2e-swarm-git.test";
const ADMIN = 26000 + Math.floor(Math.random() * 300) * 3;
const HTTP = ADMIN + 1;
let lab: SwarmLab;
let registry: ClusterRegistryHandle;
let caddy: TestCaddy;
let h: Awaited<ReturnType<typeof e2eApp>>;
let repo = "";
let stopFollower = () => {};
const started = Date.now();
const APP_CMD = [
  "sh",
  "-c",
  // PID 1 ignores SIGTERM unless it traps it: without the trap each replaced service waits out its 10 s grace period.
  'trap "exit 0" TERM; echo "task up greeting=$GREETING"; v=$(cat /www/index.html); echo "$v $(hostname)" > /www/index.html; httpd -f -vv -p 3000 -h /www & wait',
];

beforeAll(async () => {
  await ensureTestImages();
  lab = await startSwarmLab({ id: LAB, subnet: 3, workers: 1, images: [BUSYBOX_IMAGE] });
  await enableLabBuilds(lab.manager.socket);
  await allowRegistryPulls(lab.nodes[1]!, lab.manager.socket);
  registry = await startClusterRegistry(lab.gateway);
  caddy = await startCaddy({ adminPort: ADMIN });
  h = await e2eApp({
    STAXA_ENGINE: "swarm",
    STAXA_DOCKER_SOCKET: lab.manager.socket,
    STAXA_BASE_DOMAIN: BASE,
    STAXA_PUBLIC_SCHEME: "http",
    STAXA_HTTP_PORT: String(HTTP),
    STAXA_HTTPS_PORT: String(ADMIN + 2),
    STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
    STAXA_ALLOW_FILE_REPOS: "1",
    STAXA_DRAIN_SEC: "0",
    STAXA_HEALTH_TIMEOUT_SEC: "30",
    ...registry.env,
  });
  stopFollower = startRouteFollower(h.ctx); // as `staxa serve` does on the swarm engine
  // Each task answers with its hostname (its container id): which task, so which node, served a request.
  // Each task answers "<committed body> <its hostname>" (which version, which task) and logs its env and each URL asked.
  repo = await fixtureRepo("v1", { cmd: APP_CMD });
}, 240_000);

afterAll(async () => {
  stopFollower();
  await h?.resolver.kill();
  await caddy?.stop();
  await registry?.stop();
  await stopSwarmLab(LAB);
  for (const d of [h?.dataDir, repo]) if (d) rmSync(d, { recursive: true, force: true });
  console.log(`swarm-git e2e: ${((Date.now() - started) / 1000).toFixed(1)} s including lab set-up and teardown`);
}, 120_000);

const name = "swgit";
const host = `${name}.${BASE}`;
let tenantId = "";
let firstDep = "";

const onNode = async (i: number, ...args: string[]) => {
  const p = Bun.spawn(lab.docker(lab.nodes[i]!, ...args), { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(p.stdout).text();
  if ((await p.exited) !== 0)
    throw new Error(`${args.join(" ")} on ${lab.nodes[i]!.name}: ${await new Response(p.stderr).text()}`);
  return out.trim();
};
/** Running tasks of the tenant per node, from the nodes API. */
const tasksPerNode = async () => {
  const rows = (await h.call("GET", "/api/v1/nodes")).json.data as Array<{ role: string; tasks: Array<{ state: string }> }>;
  return Object.fromEntries(rows.map((n) => [n.role, n.tasks.filter((t) => t.state === "running").length]));
};
const totalTasks = async () => Object.values(await tasksPerNode()).reduce((a, b) => a + b, 0);
/** Distinct tasks Caddy reaches in `n` requests. */
const servedBy = async (n: number) => {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const res = await viaCaddy(HTTP, host);
    expect(res.status).toBe(200);
    seen.add(res.body.trim());
  }
  return seen;
};

test("a git tenant with 2 replicas: built on the manager, pushed, pulled by the worker from the registry, served by both", async () => {
  const t0 = Date.now();
  const r = await h.call("POST", "/api/v1/tenants", {
    name,
    source_type: "github",
    repo_url: `file://${repo}`,
    app_port: 3000,
    replicas: 2,
  });
  expect(r.status).toBe(202);
  tenantId = r.json.data.id;
  const depId = (await h.call("GET", `/api/v1/tenants/${tenantId}/deployments`)).json.data[0].id;
  firstDep = depId;
  const dep = await h.waitDeployment(tenantId, depId, 180_000);
  expect([dep.status, dep.error ?? dep.reason ?? null]).toEqual(["succeeded", null]);
  console.log(`swarm-git e2e: POST → succeeded in ${Date.now() - t0} ms`);
  const stages = [...new Set((await h.events(tenantId)).map((e) => e.stage))];
  expect(stages).toEqual(["info", "provision", "build", "deploy", "health", "route", "ready"]);
  expect(await tasksPerNode()).toEqual({ manager: 1, worker: 1 });
  expect((await servedBy(20)).size).toBe(2);
  // The service runs the pushed copy by digest; the worker holds it under the registry's name (it pulled it there).
  const id = await onNode(0, "service", "ls", "-q", "--filter", `label=staxa.tenant_id=${tenantId}`);
  const svc = await onNode(0, "service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", id);
  expect(svc).toMatch(new RegExp(`^${registry.address.replace(/\./g, "\\.")}/staxa/${name}-web:[^@]+@sha256:[0-9a-f]{64}$`));
  const workerRepos = (await onNode(1, "image", "ls", "--format", "{{.Repository}}")).split("\n");
  expect(workerRepos).toContain(`${registry.address}/staxa/${name}-web`);
  // Core still knows the image by its local name (retention and rollbacks work on it).
  const t = (await h.call("GET", `/api/v1/tenants/${tenantId}`)).json.data;
  expect(t.status).toBe("ready");
}, 240_000);

async function until(what: string, fn: () => Promise<boolean>, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await Bun.sleep(250);
  }
  throw new Error(`${what} not within ${ms / 1000} s`);
}

test("PATCH replicas scales the Swarm service: 2 → 3 tasks, then 3 → 1", async () => {
  const patch = (replicas: number) => h.call("PATCH", `/api/v1/tenants/${tenantId}/services/web`, { replicas });
  const p3 = await patch(3);
  expect([p3.status, p3.json.data.replicas]).toEqual([202, 3]);
  await until("3 running tasks", async () => (await totalTasks()) === 3);
  await until("3 tasks served through Caddy", async () => (await servedBy(15)).size === 3);
  const p1 = await patch(1);
  expect([p1.status, p1.json.data.replicas]).toEqual([202, 1]);
  await until("1 running task", async () => (await totalTasks()) === 1);
  await until("one task served through Caddy", async () => (await servedBy(6)).size === 1);
}, 180_000);

/** Reads a log endpoint with follow=true until `want` shows up (or `ms` pass); the text read so far. */
async function followUntil(path: string, want: string, kick: () => Promise<unknown>, ms = 20_000): Promise<string> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  const res = await h.app.handle(
    new Request(`http://localhost${path}`, { headers: { authorization: `Bearer ${h.key}` }, signal: abort.signal }),
  );
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  let text = "";
  let kicked = false;
  try {
    while (!text.includes(want)) {
      const next = reader.read();
      if (!kicked) {
        kicked = true;
        await Bun.sleep(500); // the stream is open: what the kick writes is a new line
        await kick();
      }
      const { value, done } = await next;
      if (done) break;
      text += new TextDecoder().decode(value);
    }
  } catch {
    // aborted at the deadline: the assertion below says what was missing
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return text;
}

test("an env change redeploys the current image; tenant and service logs (tail and follow) show the tasks' output", async () => {
  const p = await h.call("PATCH", `/api/v1/tenants/${tenantId}/env`, { set: { GREETING: "hi-swarm" } });
  expect(p.status).toBe(202);
  const dep = await h.waitDeployment(tenantId, p.json.meta.deployment_ids[0], 90_000);
  expect([dep.status, dep.reason ?? null]).toEqual(["succeeded", null]);
  const ev = (await h.events(tenantId)).filter((e) => e.deployment_id === dep.id);
  expect(ev.some((e) => e.stage === "build")).toBe(false);
  expect((await servedBy(4)).size).toBe(1); // replicas 1 still (the scale above is kept)
  const tail = await h.call("GET", `/api/v1/tenants/${tenantId}/logs?lines=20`);
  expect([tail.status, tail.text.includes("task up greeting=hi-swarm")]).toEqual([200, true]);
  const svcTail = await h.call("GET", `/api/v1/tenants/${tenantId}/services/web/logs?lines=20`);
  expect([svcTail.status, svcTail.text.includes("task up greeting=hi-swarm")]).toEqual([200, true]);
  const marker = `/follow-${Date.now()}`;
  const followed = await followUntil(`/api/v1/tenants/${tenantId}/logs?follow=true&lines=1`, `url:${marker}`, () =>
    viaCaddy(HTTP, host, marker),
  );
  expect(followed).toContain(`url:${marker}`);
}, 150_000);

test("a new commit is built and served; a rollback to the first deployment serves it again with no build", async () => {
  const t0 = Date.now();
  await commitVersion(repo, "v2", { cmd: APP_CMD });
  const d = await h.call("POST", `/api/v1/tenants/${tenantId}/deployments`, {});
  expect(d.status).toBe(202);
  expect((await h.waitDeployment(tenantId, d.json.data.id, 120_000)).status).toBe("succeeded");
  expect((await viaCaddy(HTTP, host)).body).toStartWith("v2 ");
  console.log(`swarm-git e2e: v2 served ${Date.now() - t0} ms after its commit`);
  const r = await h.call("POST", `/api/v1/tenants/${tenantId}/deployments/${firstDep}/rollback`);
  expect(r.status).toBe(202);
  expect((await h.waitDeployment(tenantId, r.json.data.id, 90_000)).status).toBe("succeeded");
  const ev = (await h.events(tenantId)).filter((e) => e.deployment_id === r.json.data.id);
  expect(ev.some((e) => e.stage === "build")).toBe(false);
  expect(ev.at(-1)!.stage).toBe("ready");
  expect((await viaCaddy(HTTP, host)).body).toStartWith("v1 ");
  console.log(`swarm-git e2e: v1 served again ${Date.now() - t0} ms after the commit`);
}, 240_000);

test("a job's one-off run is a Swarm job with the tenant's env: exit code and logs kept, its service removed", async () => {
  const j = await h.call("POST", `/api/v1/tenants/${tenantId}/jobs`, {
    schedule: "0 0 1 1 *",
    service: "web",
    command: ["sh", "-c", "echo job greeting=$GREETING; cat /www/index.html; exit 3"],
    timeout_sec: 60,
    paused: true,
  });
  expect(j.status).toBe(201);
  const run = await h.call("POST", `/api/v1/tenants/${tenantId}/jobs/${j.json.data.id}/run`);
  expect(run.status).toBeLessThan(300);
  const runPath = `/api/v1/tenants/${tenantId}/jobs/${j.json.data.id}/runs/${run.json.data.id}`;
  let row: any;
  await until("the run ends", async () => (row = (await h.call("GET", runPath)).json.data).status !== "running", 60_000);
  expect([row.status, row.exit_code, row.reason]).toEqual(["failed", 3, null]);
  expect(row.logs).toBe("job greeting=hi-swarm\nv1");
  expect(await onNode(0, "service", "ls", "-q", "--filter", `label=staxa.job_run=${row.id}`)).toBe("");
  // nor its exited container (it would hold the image, which a later removal could then not delete)
  expect(await onNode(0, "ps", "-aq", "--filter", `label=staxa.job_run=${row.id}`)).toBe("");
}, 90_000);

test("a custom domain is added (pending DNS); egress mode changes; live usage answers 409 usage_not_sampled", async () => {
  const d = await h.call("POST", `/api/v1/tenants/${tenantId}/domains`, { domain: "shop.swarm-custom.test" });
  expect([d.status, d.json.data.claim_status, d.json.data.ssl_status]).toEqual([201, "pending", "pending"]);
  const e = await h.call("PATCH", `/api/v1/tenants/${tenantId}`, { egress_mode: "restricted" });
  expect([e.status, e.json.data.egress_mode]).toEqual([200, "restricted"]);
  expect((await h.call("PATCH", `/api/v1/tenants/${tenantId}`, { egress_mode: "open" })).status).toBe(200);
  const u = await h.call("GET", `/api/v1/tenants/${tenantId}/usage`);
  expect([u.status, u.json.error.code]).toEqual([409, "usage_not_sampled"]);
  expect(u.json.error.message).toContain("STAXA_ENGINE=swarm");
  expect((await viaCaddy(HTTP, host)).status).toBe(200);
}, 60_000);

test("an image tenant's pulled image is pushed too: its service runs the registry's copy by digest", async () => {
  const r = await h.call("POST", "/api/v1/tenants", {
    name: "swimg",
    source_type: "image",
    image_url: BUSYBOX_IMAGE,
    app_port: 8080,
    command: ["sh", "-c", "trap 'exit 0' TERM; mkdir -p /w && hostname > /w/index.html && httpd -f -p $PORT -h /w & wait"],
    replicas: 2,
  });
  expect(r.status).toBe(202);
  const id = r.json.data.id;
  const depId = (await h.call("GET", `/api/v1/tenants/${id}/deployments`)).json.data[0].id;
  const dep = await h.waitDeployment(id, depId, 120_000);
  expect([dep.status, dep.error ?? dep.reason ?? null]).toEqual(["succeeded", null]);
  const svc = await onNode(0, "service", "ls", "-q", "--filter", `label=staxa.tenant_id=${id}`);
  const image = await onNode(0, "service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", svc);
  expect(image).toMatch(new RegExp(`^${registry.address.replace(/\./g, "\\.")}/staxa-test/busybox:latest@sha256:[0-9a-f]{64}$`));
  expect((await onNode(1, "image", "ls", "--format", "{{.Repository}}")).split("\n")).toContain(
    `${registry.address}/staxa-test/busybox`,
  );
}, 150_000);

test("an app exiting at start fails its health check as on one host: the exit code and its last output; its service removed", async () => {
  const r = await h.call("POST", "/api/v1/tenants", {
    name: "swbad",
    source_type: "image",
    image_url: BUSYBOX_IMAGE,
    app_port: 8080,
    command: ["sh", "-c", "echo config missing >&2; exit 3"],
  });
  expect(r.status).toBe(202);
  const id = r.json.data.id;
  const dep = await h.waitDeployment(id, r.json.data.deployments[0].id, 90_000);
  expect(dep.status).toBe("failed");
  expect(dep.reason).toContain("Health check failed: container exited with code 3");
  const err = (await h.events(id)).find((e) => e.stage === "error")!;
  expect([err.data.failed_stage, err.data.exit_code]).toEqual(["health", 3]);
  // The service's log: Swarm may have restarted the task once already, so the line can be there twice.
  expect(new Set(err.data.logs)).toEqual(new Set(["config missing"]));
  expect(await onNode(0, "service", "ls", "-q", "--filter", `label=staxa.tenant_id=${id}`)).toBe("");
}, 120_000);

test("a web + db tenant: web reaches db by name across nodes; db's volume (pinned to the manager) is backed up and restored", async () => {
  const loop = (port: number, dir: string) => `trap 'exit 0' TERM; httpd -f -p ${port} -h ${dir} & wait`;
  const r = await h.call("POST", "/api/v1/tenants", {
    name: "swdata",
    services: [
      {
        name: "web",
        source_type: "image",
        image_url: BUSYBOX_IMAGE,
        port: 3000,
        is_routable: true,
        depends_on: ["db"],
        command: [
          "sh",
          "-c",
          `mkdir -p /w; until wget -qO /w/index.html http://db:7000/mark; do sleep 0.5; done; ${loop(3000, "/w")}`,
        ],
      },
      {
        name: "db",
        source_type: "image",
        image_url: BUSYBOX_IMAGE,
        port: 7000,
        volumes: [{ name: "data", mount_path: "/data" }],
        command: ["sh", "-c", `[ -f /data/mark ] || echo first > /data/mark; ${loop(7000, "/data")}`],
      },
    ],
  });
  expect(r.status).toBe(202);
  const id = r.json.data.id;
  for (const dep of (await h.call("GET", `/api/v1/tenants/${id}/deployments`)).json.data)
    expect((await h.waitDeployment(id, dep.id, 120_000)).status).toBe("succeeded");
  expect(await viaCaddy(HTTP, `swdata.${BASE}`)).toEqual({ status: 200, body: "first\n" });
  // db's task runs on the manager, where its volume is
  const db = await onNode(0, "ps", "-q", "--filter", "label=staxa.tenant=swdata", "--filter", "label=staxa.service=db");
  expect(db).toMatch(/^[0-9a-f]+$/);
  const b = await h.call("POST", `/api/v1/tenants/${id}/backups`, { service: "db" });
  expect(b.status).toBe(202);
  const backupId = b.json.data[0].id;
  const path = `/api/v1/tenants/${id}/backups/${backupId}`;
  const get = async () =>
    ((await h.call("GET", `/api/v1/tenants/${id}/backups`)).json.data as any[]).find((x) => x.id === backupId);
  let row: any;
  await until("the backup ends", async () => !["queued", "running"].includes((row = await get()).status));
  expect([row.method, row.status, row.reason]).toEqual(["volume_tar", "succeeded", null]);
  const dbTask = () => onNode(0, "ps", "-q", "--filter", "label=staxa.tenant=swdata", "--filter", "label=staxa.service=db");
  await until("db runs again after the backup", async () => (await dbTask()) !== "");
  await onNode(0, "exec", await dbTask(), "sh", "-c", "echo changed > /data/mark");
  expect((await h.call("POST", `${path}/restore`)).status).toBe(202);
  await until("the restore ends", async () => (row = await get()).restore_status !== "running");
  expect([row.restore_status, row.restore_reason]).toEqual(["succeeded", null]);
  await until("db runs again after the restore", async () => (await dbTask()) !== "");
  expect(await onNode(0, "exec", await dbTask(), "cat", "/data/mark")).toBe("first");
  expect((await h.call("DELETE", `/api/v1/tenants/${id}`)).status).toBe(202);
  await until("swdata gone", async () => (await h.call("GET", `/api/v1/tenants/${id}`)).status === 404);
  expect(await onNode(0, "service", "ls", "-q", "--filter", `label=staxa.tenant_id=${id}`)).toBe("");
  expect(await onNode(0, "network", "ls", "-q", "--filter", "name=^staxa-swdata$")).toBe("");
}, 240_000);

test("removing an image the appliance built deletes its manifest from the cluster registry", async () => {
  const live = (await h.call("GET", `/api/v1/tenants/${tenantId}`)).json.data.deployments[0];
  // The live deployment is the rollback, which runs the first deployment's image under that one's tag.
  const ref = (h.ctx.db.query("SELECT image FROM deployments WHERE id = ?").get(live.id) as { image: string }).image;
  expect(ref).toBe(imageTag(name, "web", firstDep));
  const tag = ref.split(":")[1]!;
  const manifest = async () => {
    const res = await fetch(`https://${registry.address}/v2/staxa/${name}-web/manifests/${tag}`, {
      method: "HEAD",
      headers: {
        authorization: `Basic ${btoa(`${registry.auth.username}:${registry.auth.password}`)}`,
        accept: "application/vnd.docker.distribution.manifest.v2+json",
      },
      tls: { ca: registry.caPem },
    });
    return res.status;
  };
  expect(await manifest()).toBe(200);
  const del = await h.call("DELETE", `/api/v1/tenants/${tenantId}`);
  expect(del.status).toBeLessThan(300);
  await until("the tenant's manifest gone from the registry", async () => (await manifest()) === 404, 60_000);
  expect(await h.ctx.runtime.findImage(ref)).toBeUndefined();
}, 120_000);
