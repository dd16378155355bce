// The pipeline end to end against the real Docker engine, a real Caddy and real git repos:
// ready through SSE, served through Caddy, zero-downtime redeploy under load, failed health,
// rollback without build, image source, isolation, delete and name reuse.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { dockerCli, ensureTestImages, removeByPrefix, uniqueName, teardownE2e } from "../support/docker.ts";
import { commitVersion, e2eApp, fixtureRepo, traffic, viaCaddy } from "../support/e2e-app.ts";

const PREFIX = uniqueName("e2p"); // tenant names start with it; Docker objects with staxa-<it>
const BASE = "e2e-pipeline.test";
const ADMIN_PORT = 22000 + Math.floor(Math.random() * 400) * 2;
const HTTP_PORT = ADMIN_PORT + 1;
let caddy: TestCaddy;
let h: Awaited<ReturnType<typeof e2eApp>>;
let repo: string;
const cleanup: string[] = [];

beforeAll(async () => {
  await ensureTestImages();
  caddy = await startCaddy({ adminPort: ADMIN_PORT });
  h = await e2eApp({
    STAXA_BASE_DOMAIN: BASE,
    STAXA_PUBLIC_SCHEME: "http",
    STAXA_HTTP_PORT: String(HTTP_PORT),
    STAXA_HTTPS_PORT: String(HTTP_PORT + 800),
    STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
    STAXA_ALLOW_FILE_REPOS: "1",
    STAXA_ALLOW_PRIVATE_TARGETS: "1",
    STAXA_DRAIN_SEC: "2",
    STAXA_HEALTH_TIMEOUT_SEC: "8",
  });
  repo = await fixtureRepo("hello v1");
  cleanup.push(repo, h.dataDir);
}, 120_000);

afterAll(async () => {
  await teardownE2e(PREFIX, caddy, cleanup);
}, 60_000);

/** `docker run` args of a raw HTTP GET with busybox nc (its static wget crashes in scratch images). */
const httpGet = (ip: string) => [
  "staxa-test/busybox:latest",
  "sh",
  "-c",
  `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} 3000`,
];

describe("git tenant", () => {
  const name = `${PREFIX}-web`;
  const host = `${name}.${BASE}`;
  let id = "";
  let firstDep = "";

  test("reaches ready through the SSE stages and Caddy serves its body", async () => {
    const r = await h.call("POST", "/api/v1/tenants", {
      name,
      source_type: "github",
      repo_url: `file://${repo}`,
      app_port: 3000,
    });
    expect(r.status).toBe(202);
    expect(r.json.data.url).toBe(`http://${host}:${HTTP_PORT}`);
    id = r.json.data.id;
    const ev = await h.events(id);
    const stages = [...new Set(ev.map((e) => e.stage))];
    expect(stages).toEqual(["info", "provision", "build", "deploy", "health", "route", "ready"]);
    expect(await viaCaddy(HTTP_PORT, host)).toEqual({ status: 200, body: "hello v1" });
    const t = (await h.call("GET", `/api/v1/tenants/${id}`)).json.data;
    expect(t.status).toBe("ready");
    firstDep = t.deployments[0].id;
    expect(t.deployments[0].commit_sha).toMatch(/^[0-9a-f]{40}$/);
    const log = await h.call("GET", `/api/v1/tenants/${id}/deployments/${firstDep}/logs`);
    expect(log.text.length).toBeGreaterThan(0);
  }, 120_000);

  test("the container is locked down and limited", async () => {
    const ps = (await dockerCli(["ps", "-q", "--filter", `label=staxa.tenant=${name}`])).out.trim().split("\n");
    expect(ps).toHaveLength(1);
    const info = JSON.parse((await dockerCli(["inspect", ps[0]])).out)[0];
    expect(info.HostConfig.SecurityOpt).toContain("no-new-privileges:true");
    expect(info.HostConfig.CapDrop).toContain("ALL");
    expect(info.HostConfig.Privileged).toBe(false);
    expect(info.HostConfig.PidsLimit).toBe(256);
    expect(info.HostConfig.Memory).toBe(512 * 1024 * 1024);
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([`staxa-${name}`]);
    expect(info.HostConfig.PortBindings ?? {}).toEqual({});
    expect(info.Config.Labels).toMatchObject({ "staxa.managed": "1", "staxa.tenant": name, "staxa.service": "web" });
  });

  test("redeploy under 20 concurrent clients: 0 failed requests, new body served", async () => {
    await commitVersion(repo, "hello v2");
    const load = traffic(
      HTTP_PORT,
      Array.from({ length: 20 }, () => ({ host, want: (body: string) => body === "hello v1" || body === "hello v2" })),
    );
    const dep = await h.call("POST", `/api/v1/tenants/${id}/deployments`, {});
    expect(dep.status).toBe(202);
    const d = await h.waitDeployment(id, dep.json.data.id);
    await Bun.sleep(3000); // across the drain: the old container is removed while clients keep going
    const { ok, failures } = await load.stop();
    expect(d.status).toBe("succeeded");
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(100);
    expect((await viaCaddy(HTTP_PORT, host)).body).toBe("hello v2");
    // the old container is stopped after the drain (its stop timeout included)
    const deadline = Date.now() + 20_000;
    let left: string[] = [];
    do {
      left = (await dockerCli(["ps", "-aq", "--filter", `label=staxa.tenant=${name}`])).out.trim().split("\n").filter(Boolean);
      if (left.length === 1) break;
      await Bun.sleep(250);
    } while (Date.now() < deadline);
    expect(left).toHaveLength(1);
  }, 120_000);

  test("a broken version fails health with the reason; the old one keeps serving", async () => {
    await commitVersion(repo, "hello v3", { cmd: ["sh", "-c", "echo config missing >&2; exit 3"] });
    const dep = await h.call("POST", `/api/v1/tenants/${id}/deployments`, {});
    const d = await h.waitDeployment(id, dep.json.data.id);
    expect(d.status).toBe("failed");
    expect(d.reason).toContain("Health check failed");
    const err = (await h.events(id)).find((e) => e.stage === "error")!;
    expect(err.data.failed_stage).toBe("health");
    expect(err.data.exit_code).toBe(3);
    expect(err.data.logs.join("\n")).toContain("config missing");
    expect((await h.call("GET", `/api/v1/tenants/${id}`)).json.data.status).toBe("ready");
    expect(await viaCaddy(HTTP_PORT, host)).toEqual({ status: 200, body: "hello v2" });
  }, 120_000);

  test("rollback serves the old body with no build step", async () => {
    const r = await h.call("POST", `/api/v1/tenants/${id}/deployments/${firstDep}/rollback`);
    expect(r.status).toBe(202);
    const d = await h.waitDeployment(id, r.json.data.id);
    expect(d.status).toBe("succeeded");
    const ev = (await h.events(id)).filter((e) => e.deployment_id === r.json.data.id);
    expect(ev.some((e) => e.stage === "build")).toBe(false);
    expect(ev.at(-1)!.stage).toBe("ready");
    expect(await viaCaddy(HTTP_PORT, host)).toEqual({ status: 200, body: "hello v1" });
  }, 120_000);

  test("logs return the container's output", async () => {
    const r = await h.call("GET", `/api/v1/tenants/${id}/logs?lines=5`);
    expect(r.status).toBe(200);
    expect(typeof r.text).toBe("string");
  });

  test("from another tenant's container this one is unreachable", async () => {
    const other = `${PREFIX}-other`;
    const v1 = (await h.call("GET", `/api/v1/tenants/${id}/deployments/${firstDep}`)).json.data.commit_sha;
    const r = await h.call("POST", "/api/v1/tenants", {
      name: other,
      source_type: "github",
      repo_url: `file://${repo}`,
      commit_sha: v1,
      app_port: 3000,
    });
    expect((await h.waitDeployment(r.json.data.id, r.json.data.deployments[0].id)).status).toBe("succeeded");
    const svc = h.ctx.db.query("SELECT container_ip FROM services WHERE tenant_id = ?").get(id) as { container_ip: string };
    const probe = await dockerCli([
      "run",
      "--rm",
      "--network",
      `staxa-${other}`,
      "--name",
      `staxa-${PREFIX}-probe`,
      ...httpGet(svc.container_ip),
    ]);
    expect(probe.code).not.toBe(0);
    expect(probe.out).not.toContain("hello");
    // and the same probe on this tenant's own network does reach it (the test can fail)
    const own = await dockerCli([
      "run",
      "--rm",
      "--network",
      `staxa-${name}`,
      "--name",
      `staxa-${PREFIX}-probe2`,
      ...httpGet(svc.container_ip),
    ]);
    expect(own.out).toContain("hello v1");
    await h.call("DELETE", `/api/v1/tenants/${r.json.data.id}`);
  }, 120_000);

  test("delete removes containers, network and route; the name can be created again", async () => {
    const d = await h.call("DELETE", `/api/v1/tenants/${id}`);
    expect(d.status).toBe(202);
    const deadline = Date.now() + 30_000;
    while ((await h.call("GET", `/api/v1/tenants/${id}`)).status !== 404 && Date.now() < deadline) await Bun.sleep(200);
    expect((await h.call("GET", `/api/v1/tenants/${id}`)).status).toBe(404);
    expect((await dockerCli(["ps", "-aq", "--filter", `label=staxa.tenant=${name}`])).out.trim()).toBe("");
    expect((await dockerCli(["network", "ls", "-q", "--filter", `name=^staxa-${name}$`])).out.trim()).toBe("");
    expect((await viaCaddy(HTTP_PORT, host)).body).not.toContain("hello");
    expect(h.ctx.proxy.hasHost(host)).toBe(false);
    const again = await h.call("POST", "/api/v1/tenants", { name, source_type: "image", image_url: "staxa-test/busybox:latest" });
    expect(again.status).toBe(202);
    await h.call("DELETE", `/api/v1/tenants/${again.json.data.id}`);
  }, 60_000);
});

describe("image tenant", () => {
  test("a locally built image is run and served through Caddy", async () => {
    const tag = `staxa-e2e/${PREFIX}-img:1`; // not staxa/…: that namespace holds the server's own builds and is refused
    const dir = await fixtureRepo("from an image");
    cleanup.push(dir);
    const b = await dockerCli(["build", "-q", "-t", tag, dir]);
    expect(b.code).toBe(0);
    const name = `${PREFIX}-img`;
    const r = await h.call("POST", "/api/v1/tenants", { name, source_type: "image", image_url: tag, app_port: 3000 });
    expect(r.status).toBe(202);
    const d = await h.waitDeployment(r.json.data.id, r.json.data.deployments[0].id);
    expect(d.status).toBe("succeeded");
    expect(await viaCaddy(HTTP_PORT, `${name}.${BASE}`)).toEqual({ status: 200, body: "from an image" });
    const ev = await h.events(r.json.data.id);
    expect(ev.map((e) => e.stage)).toContain("ready");
    await h.call("DELETE", `/api/v1/tenants/${r.json.data.id}`);
    await removeByPrefix(`staxa-${PREFIX}-img`);
    await dockerCli(["rmi", "-f", tag]);
  }, 120_000);
});
