// A git tenant on a real two-node swarm with the cluster registry: the appliance builds on the manager's engine,
// pushes the image to `staxa registry` (started as an operator would, on the lab's gateway) and the service runs it by
// digest with the registry's credentials, so the worker pulls it from there (it never had it). Replicas 2 serve
// through Caddy from both nodes; PATCH replicas scales the Swarm service (2 → 3 → 1); removing the tenant's images
// deletes their manifests from the registry; an image tenant's pulled image is pushed and run from there too.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { BUSYBOX_IMAGE, ensureTestImages } from "../support/docker.ts";
import { e2eApp, fixtureRepo, viaCaddy } from "../support/e2e-app.ts";
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
  repo = await fixtureRepo("unused", { cmd: ["sh", "-c", "hostname > /www/index.html && exec httpd -f -p 3000 -h /www"] });
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
  const dep = await h.waitDeployment(tenantId, depId, 180_000);
  expect([dep.status, dep.error ?? dep.reason ?? null]).toEqual(["succeeded", null]);
  console.log(`swarm-git e2e: POST → succeeded in ${Date.now() - t0} ms`);
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

test("removing an image the appliance built deletes its manifest from the cluster registry", async () => {
  const live = (await h.call("GET", `/api/v1/tenants/${tenantId}`)).json.data.deployments[0];
  const ref = imageTag(name, "web", live.id);
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
