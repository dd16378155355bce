// Scheduled jobs and live usage against real Docker, Caddy and git (issue 23.2, 23.4): a job every minute, fired by
// the scheduler with its clock advanced (as the network-rules TTL test does), runs from the service's current image
// with the tenant's env and records exit codes and logs; `forbid` skips a fire while a run is still going; the
// usage numbers move when a tenant burns CPU.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { BUSYBOX_IMAGE, dockerCli, ensureTestImages, teardownE2e, uniqueName } from "../support/docker.ts";
import { commitVersion, e2eApp, fixtureRepo } from "../support/e2e-app.ts";
import { startJobScheduler } from "../../src/scheduler/jobs-job.ts";
import { sampleUsage } from "../../src/core/usage/sampler.ts";

const PREFIX = uniqueName("e2jb");
const ADMIN_PORT = 27000 + Math.floor(Math.random() * 400) * 2;
// PID 1 ignores SIGTERM unless it traps it: without the trap every stop would wait out Docker's timeout.
const CMD = ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 3000 -h /www & wait"];
let caddy: TestCaddy;
let h: Awaited<ReturnType<typeof e2eApp>>;
const cleanup: string[] = [];
/** The scheduler's clock runs this far ahead of the wall clock; each test moves it a minute on. */
let ahead = 0;
let stopScheduler = () => {};

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(250);
  }
}

const runs = async (t: string, j: string) => (await h.call("GET", `/api/v1/tenants/${t}/jobs/${j}/runs`)).json.data as any[];
const run = async (t: string, j: string, r: string) =>
  (await h.call("GET", `/api/v1/tenants/${t}/jobs/${j}/runs/${r}`)).json.data;
/**
 * Runs `kick` (e.g. a resume), moves the scheduler's clock to one second past the job's next fire, and waits for
 * the new run to be recorded (and to finish, unless `finished` is false).
 */
async function nextRun(t: string, j: string, opts: { finished?: boolean; kick?: () => Promise<unknown> } = {}): Promise<any> {
  const before = new Set((await runs(t, j)).map((r) => r.id));
  if (opts.kick) await opts.kick();
  const next = (await h.call("GET", `/api/v1/tenants/${t}/jobs/${j}`)).json.data.next_run_at;
  ahead = Math.max(ahead, Date.parse(next) + 1000 - Date.now());
  const fresh = await until(
    "a new run",
    async () => (await runs(t, j)).find((r) => !before.has(r.id) && (opts.finished === false || r.status !== "running")),
    45_000,
  );
  return run(t, j, fresh.id);
}

beforeAll(async () => {
  await ensureTestImages();
  caddy = await startCaddy({ adminPort: ADMIN_PORT });
  h = await e2eApp({
    STAXA_BASE_DOMAIN: "e2e-jobs.test",
    STAXA_PUBLIC_SCHEME: "http",
    STAXA_HTTP_PORT: String(ADMIN_PORT + 1),
    STAXA_HTTPS_PORT: String(ADMIN_PORT + 801),
    STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
    STAXA_ALLOW_FILE_REPOS: "1",
    STAXA_DRAIN_SEC: "0",
    STAXA_HEALTH_TIMEOUT_SEC: "15",
  });
  cleanup.push(h.dataDir);
  // A tick every second, on a clock a test moves ahead a minute at a time.
  stopScheduler = startJobScheduler({ ...h.ctx, now: () => new Date(Date.now() + ahead) }, { everySec: 1 });
}, 120_000);

afterAll(async () => {
  stopScheduler();
  await teardownE2e(PREFIX, caddy, cleanup);
}, 60_000);

describe("a job every minute", () => {
  let tenantId = "";
  let repo = "";
  let jobId = "";

  test("runs from the service's live image with the tenant's env; the exit code and logs are recorded", async () => {
    repo = await fixtureRepo("version-one", { cmd: CMD });
    cleanup.push(repo);
    const r = await h.call("POST", "/api/v1/tenants", {
      name: `${PREFIX}-app`,
      source_type: "github",
      repo_url: `file://${repo}`,
      app_port: 3000,
      env: { GREETING: "hello-from-env" },
    });
    expect(r.status).toBe(202);
    tenantId = r.json.data.id;
    expect((await h.waitDeployment(tenantId, r.json.data.deployments[0].id)).status).toBe("succeeded");
    const j = await h.call("POST", `/api/v1/tenants/${tenantId}/jobs`, {
      schedule: "* * * * *",
      service: "web",
      command: ["sh", "-c", "cat /www/index.html; echo; echo greeting=$GREETING; exit 3"],
      timeout_sec: 30,
      concurrency_policy: "forbid",
    });
    expect(j.status).toBe(201);
    jobId = j.json.data.id;
    const first = await nextRun(tenantId, jobId);
    expect(first).toMatchObject({ trigger: "schedule", status: "failed", exit_code: 3, reason: null });
    expect(first.logs).toBe("version-one\ngreeting=hello-from-env");
    expect(first.duration_ms).toBeGreaterThanOrEqual(0);
    const live = (h.ctx.db.query("SELECT live_image FROM services WHERE tenant_id = ?").get(tenantId) as { live_image: string })
      .live_image;
    expect(first.image).toBe(live);
    // The run's container is gone once its logs are kept.
    expect((await dockerCli(["ps", "-aq", "--filter", `label=staxa.job_run=${first.id}`])).out.trim()).toBe("");
  }, 120_000);

  test("after a redeploy the next run uses the new image", async () => {
    await commitVersion(repo, "version-two", { cmd: CMD });
    const d = await h.call("POST", `/api/v1/tenants/${tenantId}/deploy`);
    expect(d.status).toBe(202);
    expect((await h.waitDeployment(tenantId, d.json.meta.deployment_ids[0])).status).toBe("succeeded");
    const second = await nextRun(tenantId, jobId);
    expect(second).toMatchObject({ status: "failed", exit_code: 3, logs: "version-two\ngreeting=hello-from-env" });
    expect((await h.call("POST", `/api/v1/tenants/${tenantId}/jobs/${jobId}/pause`)).json.data.paused).toBe(true);
  }, 120_000);

  test("forbid: a fire while the previous run is still going is recorded skipped; deleting the job stops the run", async () => {
    // Created paused: the API's clock is behind the scheduler's, so the job is due as soon as it is resumed.
    const j = await h.call("POST", `/api/v1/tenants/${tenantId}/jobs`, {
      schedule: "* * * * *",
      service: "web",
      command: ["sleep", "60"],
      timeout_sec: 120,
      concurrency_policy: "forbid",
      paused: true,
    });
    expect(j.status).toBe(201);
    const long = await nextRun(tenantId, j.json.data.id, {
      finished: false,
      kick: () => h.call("POST", `/api/v1/tenants/${tenantId}/jobs/${j.json.data.id}/resume`),
    });
    expect(long.status).toBe("running");
    const skipped = await nextRun(tenantId, j.json.data.id);
    expect(skipped).toMatchObject({ status: "skipped", reason: `run ${long.id} is still going (concurrency_policy forbid)` });
    expect((await run(tenantId, j.json.data.id, long.id)).status).toBe("running");
    expect((await dockerCli(["ps", "-q", "--filter", `label=staxa.job_run=${long.id}`])).out.trim()).not.toBe("");
    expect((await h.call("DELETE", `/api/v1/tenants/${tenantId}/jobs/${j.json.data.id}`)).status).toBe(204);
    expect((await dockerCli(["ps", "-aq", "--filter", `label=staxa.job_run=${long.id}`])).out.trim()).toBe("");
  }, 120_000);
});

describe("live usage", () => {
  test("a tenant burning CPU shows it; an idle one does not; both in /metrics", async () => {
    const burn = `${PREFIX}-burn`;
    const r = await h.call("POST", "/api/v1/tenants", {
      name: burn,
      services: [
        {
          name: "web",
          source_type: "image",
          image_url: BUSYBOX_IMAGE,
          port: 3000,
          is_routable: true,
          command: [
            "sh",
            "-c",
            "trap 'exit 0' TERM; mkdir -p /w; echo hot > /w/index.html; httpd -p 3000 -h /w; while :; do :; done",
          ],
        },
      ],
    });
    expect(r.status).toBe(202);
    const burnId = r.json.data.id;
    expect((await h.waitDeployment(burnId, r.json.data.deployments[0].id)).status).toBe("succeeded");
    await sampleUsage(h.ctx);
    await sampleUsage(h.ctx);
    const hot = (await h.call("GET", `/api/v1/tenants/${burnId}/usage`)).json.data;
    expect(hot.services.map((s: any) => s.service)).toEqual(["web"]);
    const web = hot.services[0];
    expect(web.history.length).toBe(2);
    // resource_size small: half a CPU, so a busy loop shows up to 50 % (less while other work holds the 2 cores).
    expect(web.current.cpu_percent).toBeGreaterThan(20);
    expect(web.current.memory_bytes).toBeGreaterThan(0);
    expect(web.current.memory_limit_bytes).toBe(512 * 1024 * 1024);
    expect(hot).toMatchObject({ near_memory_limit: false, restarting: false });
    const idle = (await h.call("GET", "/api/v1/tenants")).json.data.find((t: any) => t.name === `${PREFIX}-app`);
    const calm = (await h.call("GET", `/api/v1/tenants/${idle.id}/usage`)).json.data;
    expect(calm.services[0].current.cpu_percent).toBeLessThan(5);
    const metrics = h.ctx.metrics.registry.render();
    const cpu = Number(new RegExp(`staxa_tenant_cpu_percent\\{tenant="${burn}"\\} ([0-9.]+)`).exec(metrics)?.[1]);
    expect(cpu).toBeGreaterThan(20);
    expect(metrics).toContain(`staxa_tenant_memory_bytes{tenant="${PREFIX}-app"}`);
  }, 120_000);
});
