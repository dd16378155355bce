// Builds are untrusted code (issue 19), through the real pipeline, Docker engine, Caddy and git: what the daemon
// would fetch on the host's network (ADD <url>) is refused before any fetch with the line named; RUN steps have a
// process limit, no NET_RAW and the build's memory/CPU limits; FROM an image id or a staxa/ tag is refused.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { dockerCli, ensureTestImages, teardownE2e, uniqueName } from "../support/docker.ts";
import { e2eApp, git } from "../support/e2e-app.ts";

const PREFIX = uniqueName("e2sb");
const BASE = "e2e-sandbox.test";
const ADMIN_PORT = 22000 + Math.floor(Math.random() * 400) * 2;
const HTTP_PORT = ADMIN_PORT + 1;
const SERVE = 'CMD ["busybox", "httpd", "-f", "-p", "3000", "-h", "/www"]';
let caddy: TestCaddy;
let h: Awaited<ReturnType<typeof e2eApp>>;
let loopback: ReturnType<typeof Bun.serve>;
let loopbackHits = 0;
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
    STAXA_DRAIN_SEC: "0",
    STAXA_HEALTH_TIMEOUT_SEC: "15",
    STAXA_BUILD_MEMORY_MB: "768",
    STAXA_BUILD_CPUS: "1",
  });
  cleanup.push(h.dataDir);
  // What a remote ADD would read: a secret on the host's loopback. A hit here is the hole.
  loopback = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => (loopbackHits++, new Response("host-secret")) });
}, 120_000);

afterAll(async () => {
  loopback?.stop(true);
  await teardownE2e(PREFIX, caddy, cleanup);
}, 60_000);

/** A git repo whose Dockerfile is `lines`; an index.html beside it. */
async function repoWith(lines: string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "staxa-e2e-sandbox-"));
  cleanup.push(dir);
  await git(dir, "init", "-q", "-b", "main");
  writeFileSync(join(dir, "index.html"), "sandboxed");
  writeFileSync(join(dir, "Dockerfile"), lines.join("\n") + "\n");
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "-m", "app");
  return dir;
}

/** Creates a git tenant from `lines` and waits for its first deployment to finish. */
async function deploy(name: string, lines: string[]) {
  const repo = await repoWith(lines);
  const r = await h.call("POST", "/api/v1/tenants", {
    name: `${PREFIX}-${name}`,
    source_type: "github",
    repo_url: `file://${repo}`,
    app_port: 3000,
  });
  expect(r.status).toBe(202);
  const id = r.json.data.id as string;
  const depId = (await h.call("GET", `/api/v1/tenants/${id}`)).json.data.deployments[0].id as string;
  const dep = await h.waitDeployment(id, depId, 240_000);
  const log = (await h.call("GET", `/api/v1/tenants/${id}/deployments/${depId}/logs`)).text;
  return { id, dep, log };
}

/** The deployment failed at build with `words` in its reason, its error event and its build log; nothing was built. */
async function expectRefused(d: Awaited<ReturnType<typeof deploy>>, words: string[]) {
  expect(d.dep.status).toBe("failed");
  const error = (await h.events(d.id)).find((e) => e.stage === "error");
  expect(error?.data.failed_stage).toBe("build");
  for (const w of words) {
    expect(d.dep.reason).toContain(w);
    expect(error?.message).toContain(w);
    expect(d.log).toContain(w);
  }
  expect(d.dep.image).toBeNull();
}

describe("remote ADD is refused before the daemon fetches anything", () => {
  test("ADD from the host's loopback: the line is named and the loopback server is never asked", async () => {
    const port = loopback.port;
    const d = await deploy("add-loop", [
      "FROM staxa-test/busybox:latest",
      `ADD http://127.0.0.1:${port}/config/ /www/caddy.json`,
      SERVE,
    ]);
    await expectRefused(d, ["Dockerfile line 2", `ADD of http://127.0.0.1:${port}`, "RUN curl"]);
    expect(loopbackHits).toBe(0);
  }, 240_000);

  test("ADD from the cloud metadata address names the line", async () => {
    const d = await deploy("add-meta", [
      "FROM staxa-test/busybox:latest",
      "# the instance's IAM credentials",
      "ADD http://169.254.169.254/latest/meta-data/iam/security-credentials/role /www/creds",
      SERVE,
    ]);
    await expectRefused(d, ["Dockerfile line 3", "ADD of http://169.254.169.254", "RUN curl"]);
  }, 240_000);

  test("ADD of a git URL names the line (continued over two lines)", async () => {
    const d = await deploy("add-git", [
      "FROM staxa-test/busybox:latest",
      "WORKDIR /www",
      `add --keep-git-dir=true \\`,
      `  git://127.0.0.1:${loopback.port}/private.git /www/src`,
      SERVE,
    ]);
    await expectRefused(d, ["Dockerfile line 3", "ADD of git://127.0.0.1", "RUN curl"]);
    expect(loopbackHits).toBe(0);
  }, 240_000);
});

describe("RUN steps run under the tenant posture", () => {
  let image = ""; // built by the first test; the image another tenant will try to use
  let imageId = "";

  test("no NET_RAW (CapEff and CapBnd bit 13 clear), and the build's memory and CPU limits", async () => {
    const d = await deploy("caps", [
      "FROM staxa-test/busybox:latest",
      "COPY index.html /www/index.html",
      "RUN grep -E '^Cap(Eff|Bnd)' /proc/self/status",
      "RUN cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max",
      SERVE,
    ]);
    expect(d.dep.status).toBe("succeeded");
    for (const set of ["CapEff", "CapBnd"]) {
      const hex = new RegExp(`${set}:\\s*([0-9a-f]{16})`).exec(d.log)?.[1];
      expect(hex).toBeDefined();
      expect(BigInt(`0x${hex}`) & (1n << 13n)).toBe(0n); // CAP_NET_RAW
      expect(BigInt(`0x${hex}`) & (1n << 0n)).toBe(1n); // CAP_CHOWN: a build still has the ordinary set
    }
    expect(d.log).toMatch(new RegExp(`^${768 * 1024 * 1024}$`, "m"));
    expect(d.log).toMatch(/^(100000|100000 100000)$/m); // 1 CPU: quota = period
    image = d.dep.image;
    imageId = JSON.parse((await dockerCli(["image", "inspect", image])).out)[0].Id;
    expect(image).toStartWith(`staxa/${PREFIX}-caps-web:`);
  }, 240_000);

  test("a fork bomb in RUN stops at the process limit; the appliance and the host keep answering", async () => {
    const repo = await repoWith([
      "FROM staxa-test/busybox:latest",
      "COPY index.html /www/index.html",
      // The bomb runs 15 s; then its pids cgroup tells what it hit (pids.events counts forks refused at the limit).
      "RUN timeout -s KILL 15 sh -c 'f(){ f | f & f | f; }; f' 2>/dev/null; d=/sys/fs/cgroup/pids; [ -r $d/pids.max ] || d=/sys/fs/cgroup; " +
        'read max < $d/pids.max; read ev < $d/pids.events; echo "bomb over: pids.max $max, pids.events $ev"',
      SERVE,
    ]);
    const r = await h.call("POST", "/api/v1/tenants", {
      name: `${PREFIX}-bomb`,
      source_type: "github",
      repo_url: `file://${repo}`,
      app_port: 3000,
    });
    expect(r.status).toBe(202);
    const id = r.json.data.id as string;
    const depId = (await h.call("GET", `/api/v1/tenants/${id}`)).json.data.deployments[0].id as string;
    // While it builds: /healthz answers promptly and the host can still start a process.
    const slowest = { healthz: 0, spawn: 0 };
    let probes = 0;
    for (;;) {
      const dep = (await h.call("GET", `/api/v1/tenants/${id}/deployments/${depId}`)).json.data;
      if (dep.status !== "queued" && dep.status !== "building") break;
      let t = performance.now();
      const res = await h.app.handle(new Request("http://localhost/healthz"));
      expect(res.status).toBe(200);
      slowest.healthz = Math.max(slowest.healthz, performance.now() - t);
      t = performance.now();
      expect(await Bun.spawn(["true"]).exited).toBe(0);
      slowest.spawn = Math.max(slowest.spawn, performance.now() - t);
      probes++;
      await Bun.sleep(250);
    }
    const dep = await h.waitDeployment(id, depId, 240_000);
    const log = (await h.call("GET", `/api/v1/tenants/${id}/deployments/${depId}/logs`)).text;
    const hit = /bomb over: pids\.max (\d+), pids\.events max (\d+)/.exec(log);
    expect(hit?.[1]).toBe("1024");
    expect(Number(hit?.[2])).toBeGreaterThan(0); // it did reach the limit
    expect(["succeeded", "failed"]).toContain(dep.status);
    expect(probes).toBeGreaterThan(20); // ~15 s of bomb at 4 probes a second
    expect(slowest.healthz).toBeLessThan(2000);
    expect(slowest.spawn).toBeLessThan(2000);
  }, 300_000);

  // The hole was intermittent (one run in three): each form, three times over.
  for (let round = 1; round <= 3; round++) {
    test(`round ${round}: another tenant's image by id or by its staxa/ tag is refused`, async () => {
      expect(imageId).toStartWith("sha256:");
      const short = imageId.slice(7, 19);
      for (const v of [short, imageId]) {
        const r = await h.call("POST", "/api/v1/tenants", {
          name: `${PREFIX}-url${round}`,
          source_type: "image",
          image_url: v,
          app_port: 3000,
        });
        expect(r.status).toBe(400);
        expect(r.json.error.details.field).toBe("image_url");
      }
      const byId = await deploy(`from-id${round}`, [`FROM ${round === 2 ? imageId : short}`, SERVE]);
      await expectRefused(byId, ["Dockerfile line 1", "by id"]);
      const byTag = await deploy(`from-tag${round}`, [
        "FROM staxa-test/busybox:latest AS base",
        "FROM base",
        `COPY --from=${image} /www /www`,
        SERVE,
      ]);
      await expectRefused(byTag, ["Dockerfile line 3", "staxa/"]);
      const byFrom = await deploy(`from-ns${round}`, ["# the server's own build of another tenant", `FROM ${image}`, SERVE]);
      await expectRefused(byFrom, ["Dockerfile line 2", "staxa/"]);
    }, 240_000);
  }
});
