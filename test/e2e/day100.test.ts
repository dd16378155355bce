// Day 100 looks like day 1 (issue 20), against the real Docker engine, Caddy and git: a deleted tenant leaves no
// image (multi-stage stage images included), retention keeps N and a rollback past it rebuilds, the disk guard
// refuses builds while tenants keep serving, a hung build times out by name, a cancel leaves the old version serving.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { dockerCli, ensureTestImages, uniqueName, teardownE2e } from "../support/docker.ts";
import { commitVersion, e2eApp, fixtureRepo, git } from "../support/e2e-app.ts";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const PREFIX = uniqueName("d100");
const BASE = "e2e-day100.test";
const ADMIN_PORT = 23000 + Math.floor(Math.random() * 400) * 2;
const HTTP_PORT = ADMIN_PORT + 1;
let caddy: TestCaddy;
let h: Awaited<ReturnType<typeof e2eApp>>;
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
    STAXA_DRAIN_SEC: "0",
    STAXA_HEALTH_TIMEOUT_SEC: "8",
    STAXA_IMAGE_KEEP: "2",
  });
  cleanup.push(h.dataDir);
}, 120_000);

afterAll(async () => {
  await teardownE2e(PREFIX, caddy, cleanup);
}, 60_000);

/** Every local tag of a tenant's builds with its image id ("ref id"). */
const tagsOf = async (name: string) =>
  (
    await dockerCli([
      "images",
      "--no-trunc",
      "--format",
      "{{.Repository}}:{{.Tag}} {{.ID}}",
      "--filter",
      `reference=staxa/${name}-*`,
    ])
  ).out
    .split("\n")
    .filter(Boolean)
    .sort();
const imageExists = async (id: string) => (await dockerCli(["image", "inspect", id])).code === 0;

/** A two-stage build: its first stage's image is what untagged multi-stage builds used to leave behind. */
async function multiStage(dir: string, body: string, extraRun?: string): Promise<void> {
  writeFileSync(join(dir, "index.html"), body);
  writeFileSync(
    join(dir, "Dockerfile"),
    [
      "FROM staxa-test/busybox:latest AS build",
      "COPY index.html /out/index.html",
      `RUN echo "${body}" > /out/stamp`,
      "",
      "FROM staxa-test/busybox:latest",
      "COPY --from=build /out /www",
      ...(extraRun ? [`RUN ${extraRun}`] : []),
      'CMD ["busybox","httpd","-f","-p","3000","-h","/www"]',
    ].join("\n") + "\n",
  );
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "-m", body);
}

/** One plain GET through Caddy: no resend, no retry (what a client sees is what is counted). */
async function get(host: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${HTTP_PORT}/`, { headers: { host }, signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text() };
}

async function create(name: string, repo: string): Promise<{ id: string; dep: string }> {
  const r = await h.call("POST", "/api/v1/tenants", { name, source_type: "github", repo_url: `file://${repo}`, app_port: 3000 });
  expect(r.status).toBe(202);
  return { id: r.json.data.id, dep: r.json.data.deployments[0].id };
}

async function deploy(id: string): Promise<any> {
  const d = await h.call("POST", `/api/v1/tenants/${id}/deployments`, {});
  expect(d.status).toBe(202);
  return h.waitDeployment(id, d.json.data.id, 180_000);
}

async function waitGone(id: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await h.call("GET", `/api/v1/tenants/${id}`)).status !== 404 && Date.now() < deadline) await Bun.sleep(200);
  expect((await h.call("GET", `/api/v1/tenants/${id}`)).status).toBe(404);
}

describe("images", () => {
  test("retention keeps the last 2; a rollback past them rebuilds its commit; deleting the tenant leaves none of its images", async () => {
    const repo = await fixtureRepo("unused");
    cleanup.push(repo);
    await multiStage(repo, `${PREFIX} v1`);
    const name = `${PREFIX}-img`;
    const host = `${name}.${BASE}`;
    const { id, dep } = await create(name, repo);
    const first = await h.waitDeployment(id, dep, 180_000);
    expect(first.status).toBe("succeeded");
    // The build's first stage is tagged beside its image, so removing the build's tags frees it too.
    expect((await tagsOf(name)).map((t) => t.split(" ")[0])).toEqual([
      `staxa/${name}-web:${dep.slice(4)}`,
      `staxa/${name}-web:${dep.slice(4)}-stage1`,
    ]);
    const seen = new Set((await tagsOf(name)).map((t) => t.split(" ")[1]));
    for (const v of ["v2", "v3"]) {
      await multiStage(repo, `${PREFIX} ${v}`);
      expect((await deploy(id)).status).toBe("succeeded");
      for (const t of await tagsOf(name)) seen.add(t.split(" ")[1]);
    }
    // STAXA_IMAGE_KEEP=2: v1's image and stage went after the third deploy (retention runs after "succeeded" is recorded).
    await h.ctx.deployer.queue.idle();
    const kept = (await tagsOf(name)).map((t) => t.split(" ")[0]);
    expect(kept).toHaveLength(4);
    expect(kept.some((t) => t.includes(dep.slice(4)))).toBe(false);
    expect(seen.size).toBe(6);

    const rb = await h.call("POST", `/api/v1/tenants/${id}/deployments/${first.id}/rollback`, {});
    expect(rb.status).toBe(202);
    const done = await h.waitDeployment(id, rb.json.data.id, 180_000);
    expect(done.status).toBe("succeeded");
    expect(done.commit_sha).toBe(first.commit_sha);
    expect(await get(host)).toEqual({ status: 200, body: `${PREFIX} v1` });
    const log = await h.call("GET", `/api/v1/tenants/${id}/deployments/${rb.json.data.id}/logs`);
    expect(log.text).toContain("building commit");
    for (const t of await tagsOf(name)) seen.add(t.split(" ")[1]);

    expect((await h.call("DELETE", `/api/v1/tenants/${id}`)).status).toBe(202);
    await waitGone(id);
    expect(await tagsOf(name)).toEqual([]);
    for (const img of seen) expect(`${img} exists: ${await imageExists(img)}`).toBe(`${img} exists: false`);
  }, 600_000);

  test("a rollback to an image that is gone and cannot be made again is 409 saying why", async () => {
    const name = `${PREFIX}-pull`;
    const tag = `staxa-e2e/${PREFIX}-local:1`; // a local image: nothing to pull it from
    const dir = await fixtureRepo(`${PREFIX} local`);
    cleanup.push(dir);
    expect((await dockerCli(["build", "-q", "-t", tag, dir])).code).toBe(0);
    const r = await h.call("POST", "/api/v1/tenants", { name, source_type: "image", image_url: tag, app_port: 3000 });
    const id = r.json.data.id;
    const first = await h.waitDeployment(id, r.json.data.deployments[0].id);
    expect(first.status).toBe("succeeded");
    const imageId = (await dockerCli(["image", "inspect", "-f", "{{.Id}}", tag])).out.trim();
    // Gone from the server: the running container keeps its image, so it is stopped first.
    await h.ctx.db.query("UPDATE deployments SET image = NULL WHERE id = ?").run(first.id);
    const c = (await dockerCli(["ps", "-aq", "--filter", `label=staxa.tenant=${name}`])).out.trim();
    await dockerCli(["rm", "-f", c]);
    expect((await dockerCli(["rmi", "-f", imageId])).code).toBe(0);
    const rb = await h.call("POST", `/api/v1/tenants/${id}/deployments/${first.id}/rollback`, {});
    expect(rb.status).toBe(409);
    expect(rb.json.error.code).toBe("image_gone");
    expect(rb.json.error.message).toContain("no longer on this server");
    await h.call("DELETE", `/api/v1/tenants/${id}`);
  }, 180_000);
});

/** Plain GETs through Caddy in a loop until stop(): every answer that is not 200 with `want` is a failure. */
function plainTraffic(host: string, want: string) {
  let done = false;
  let ok = 0;
  const failures: string[] = [];
  const loop = (async () => {
    while (!done) {
      try {
        const r = await get(host);
        if (r.status === 200 && r.body === want) ok++;
        else failures.push(`${r.status} ${r.body.slice(0, 60)}`);
      } catch (e) {
        failures.push(String(e));
      }
    }
  })();
  return {
    async stop() {
      done = true;
      await loop;
      return { ok, failures };
    },
  };
}

/** Waits until the deployment is building and its log shows `text` (the build reached that step). */
async function waitBuilding(id: string, depId: string, text: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const d = (await h.call("GET", `/api/v1/tenants/${id}/deployments/${depId}`)).json.data;
    const log = (await h.call("GET", `/api/v1/tenants/${id}/deployments/${depId}/logs`)).text;
    if (d.status === "building" && log.includes(text)) return;
    if (d.status === "failed" || d.status === "succeeded")
      throw new Error(`${depId} ${d.status} before reaching "${text}": ${d.reason}`);
    await Bun.sleep(250);
  }
  throw new Error(`${depId} never reached "${text}"`);
}

describe("disk guard and deadlines", () => {
  let repo = "";
  let id = "";
  const name = `${PREFIX}-live`;
  const host = `${name}.${BASE}`;

  beforeAll(async () => {
    repo = await fixtureRepo(`${PREFIX} serving`);
    cleanup.push(repo);
    const t = await create(name, repo);
    id = t.id;
    expect((await h.waitDeployment(id, t.dep, 180_000)).status).toBe("succeeded");
    expect(await get(host)).toEqual({ status: 200, body: `${PREFIX} serving` });
  }, 240_000);

  test("a threshold above the free space fails the next build with the disk event while the tenant serves; lifting it lets the next deploy succeed", async () => {
    const free = (await h.call("GET", "/api/v1/build-capacity")).json.data;
    expect(free.builds_allowed).toBe(true);
    const most = Math.max(...free.disks.map((d: { free_mb: number }) => d.free_mb));
    const before = h.ctx.config.minFreeDiskMb;
    Object.assign(h.ctx.config, { minFreeDiskMb: most + 100_000 }); // a setting changed at run time (the context reads it per deployment)
    try {
      await commitVersion(repo, `${PREFIX} never built`);
      const d = await deploy(id);
      expect(d.status).toBe("failed");
      expect(d.reason).toContain("Not enough free disk to build");
      expect(d.reason).toContain(`STAXA_MIN_FREE_DISK_MB=${most + 100_000}`);
      expect(d.reason).toMatch(/\d+ MB free on /);
      const ev = (await h.events(id, 5_000).catch(() => [])) as Array<{ stage: string; data: any; deployment_id: string }>;
      const disk = ev.find((e) => e.deployment_id === d.id && e.stage === "error");
      expect(disk?.data).toMatchObject({
        reason: "disk_low",
        setting: "STAXA_MIN_FREE_DISK_MB",
        failed_stage: "build",
        still_serving: true,
      });
      expect(await get(host)).toEqual({ status: 200, body: `${PREFIX} serving` });
      expect((await h.call("GET", `/api/v1/tenants/${id}`)).json.data.status).toBe("ready");
      expect(h.ctx.metrics.registry.render()).toContain("staxa_disk_low 1");
      expect((await h.call("GET", "/api/v1/build-capacity")).json.data.builds_allowed).toBe(false);
    } finally {
      Object.assign(h.ctx.config, { minFreeDiskMb: before }); // a setting changed at run time (the context reads it per deployment)
    }
    const ok = await deploy(id);
    expect(ok.status).toBe("succeeded");
    expect(await get(host)).toEqual({ status: 200, body: `${PREFIX} never built` });
  }, 300_000);

  test("a build that hangs ends failed with the timeout named, and the old version keeps serving", async () => {
    const before = h.ctx.config.buildTimeoutSec;
    Object.assign(h.ctx.config, { buildTimeoutSec: 10 }); // a setting changed at run time (the context reads it per deployment)
    try {
      await commitVersion(repo, `${PREFIX} hangs`, { extraRun: "sleep 600" });
      const t0 = Date.now();
      const d = await deploy(id);
      expect(d.status).toBe("failed");
      expect(d.reason).toBe("timed out after 10 s in build");
      expect(Date.now() - t0).toBeLessThan(60_000);
      expect(await get(host)).toEqual({ status: 200, body: `${PREFIX} never built` });
    } finally {
      Object.assign(h.ctx.config, { buildTimeoutSec: before }); // a setting changed at run time (the context reads it per deployment)
    }
  }, 180_000);

  test("a cancel during a build leaves the old version serving with 0 failed requests", async () => {
    await commitVersion(repo, `${PREFIX} cancelled`, { extraRun: "sleep 600" });
    const load = plainTraffic(host, `${PREFIX} never built`);
    const dep = await h.call("POST", `/api/v1/tenants/${id}/deployments`, {});
    expect(dep.status).toBe(202);
    const depId = dep.json.data.id;
    await waitBuilding(id, depId, "sleep 600");
    const c = await h.call("POST", `/api/v1/tenants/${id}/deployments/${depId}/cancel`, {});
    expect(c.status).toBe(202);
    const d = await h.waitDeployment(id, depId, 60_000);
    await Bun.sleep(1000);
    const { ok, failures } = await load.stop();
    expect(d.status).toBe("failed");
    expect(d.reason).toMatch(/^cancelled by key_/);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(10);
    expect((await h.call("POST", `/api/v1/tenants/${id}/deployments/${depId}/cancel`, {})).status).toBe(409);
    expect((await h.call("GET", `/api/v1/tenants/${id}`)).json.data.status).toBe("ready");
  }, 240_000);
});
