// Scheduled jobs over the fakes: input validation (400 naming the field), the concurrency policy and missed-fire
// decisions as pure tables, and runs from the service's live image with the tenant's env.
import { describe, expect, test } from "bun:test";
import { FakeGit, FakeProxy, FakeRuntime } from "../../support/fakes.ts";
import { testApp } from "../../support/ctx.ts";
import { configureDeployer, idle } from "../../../src/core/deploy/deployer.ts";
import { decide, dueFires } from "../../../src/core/jobs/policy.ts";
import { cronOf } from "../../../src/core/jobs/input.ts";
import { tickJobs } from "../../../src/core/jobs/jobs.ts";

let clock = new Date("2030-01-01T00:00:30Z");

async function jobsApp() {
  const runtime = new FakeRuntime();
  const app = testApp({ runtime, proxy: new FakeProxy(), git: new FakeGit(), now: () => clock }, { STAXA_DRAIN_SEC: "0" });
  configureDeployer(app.deps, { probe: runtime.probe, healthTimeoutMs: 300 });
  const r = await app.call("POST", "/api/v1/tenants", {
    name: "jobs-t",
    source_type: "image",
    image_url: "example/app:1",
    app_port: 3000,
    env: { GREETING: "hi", API_KEY: "sekret-value-1" },
  });
  expect(r.status).toBe(202);
  await idle(app.deps);
  return { ...app, runtime, id: r.json.data.id as string };
}

const job = (extra: Record<string, unknown> = {}) => ({
  schedule: "* * * * *",
  command: ["sh", "-c", "echo $GREETING"],
  service: "web",
  timeout_sec: 30,
  concurrency_policy: "forbid",
  ...extra,
});

describe("POST /tenants/{id}/jobs: validation", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["a schedule that is not cron", { schedule: "every minute" }, "schedule"],
    ["a schedule with a seconds field", { schedule: "* * * * * *" }, "schedule"],
    ["an impossible schedule field", { schedule: "61 * * * *" }, "schedule"],
    ["a missing schedule", { schedule: undefined }, "schedule"],
    ["a command given as a shell string", { command: "echo hi; rm -rf /" }, "command"],
    ["an empty command", { command: [] }, "command"],
    ["a command with a non-string argument", { command: ["echo", 1] }, "command"],
    ["a command with NUL", { command: ["echo", "a\u0000b"] }, "command"],
    ["an unknown service", { service: "worker" }, "service"],
    ["a timeout of 0", { timeout_sec: 0 }, "timeout_sec"],
    ["a fractional timeout", { timeout_sec: 1.5 }, "timeout_sec"],
    ["an unknown policy", { concurrency_policy: "queue" }, "concurrency_policy"],
    ["an unknown field", { shell: true }, "shell"],
  ];
  for (const [what, patch, field] of cases) {
    test(`${what} is a 400 naming ${field}`, async () => {
      const a = await jobsApp();
      const body = job(patch);
      const r = await a.call("POST", `/api/v1/tenants/${a.id}/jobs`, JSON.parse(JSON.stringify(body)));
      expect(r.status).toBe(400);
      expect(r.json.error.details.field).toBe(field);
    });
  }

  test("a valid job is 201 with its next fire time, and listed", async () => {
    const a = await jobsApp();
    const r = await a.call("POST", `/api/v1/tenants/${a.id}/jobs`, job());
    expect(r.status).toBe(201);
    expect(r.json.data).toMatchObject({
      schedule: "* * * * *",
      command: ["sh", "-c", "echo $GREETING"],
      service: "web",
      timeout_sec: 30,
      concurrency_policy: "forbid",
      paused: false,
      next_run_at: "2030-01-01T00:01:00Z",
    });
    expect((await a.call("GET", `/api/v1/tenants/${a.id}/jobs`)).json.data.map((j: any) => j.id)).toEqual([r.json.data.id]);
  });
});

describe("concurrency policy (pure)", () => {
  const table: Array<[string, "forbid" | "allow" | "replace", string[], ReturnType<typeof decide>]> = [
    ["forbid, nothing running", "forbid", [], { action: "run" }],
    [
      "forbid, one running",
      "forbid",
      ["run_a"],
      { action: "skip", reason: "run run_a is still going (concurrency_policy forbid)" },
    ],
    ["allow, one running", "allow", ["run_a"], { action: "run" }],
    ["allow, two running", "allow", ["run_a", "run_b"], { action: "run" }],
    [
      "allow, three running: no pile-up",
      "allow",
      ["run_a", "run_b", "run_c"],
      { action: "skip", reason: "3 runs are still going, the most concurrency_policy allow permits" },
    ],
    ["replace, nothing running", "replace", [], { action: "run" }],
    ["replace, two running", "replace", ["run_a", "run_b"], { action: "replace", stop: ["run_a", "run_b"] }],
  ];
  for (const [name, policy, running, want] of table) test(name, () => expect(decide(policy, running)).toEqual(want));
});

describe("missed fires (pure)", () => {
  const every = cronOf("*/5 * * * *");
  const next = (d: Date) => every.nextRun(d);
  const at = (s: string) => new Date(`2030-01-01T${s}Z`);
  test("not yet due", () =>
    expect(dueFires(at("00:05:00"), at("00:04:59"), next)).toEqual({ due: false, missed: 0, next: at("00:05:00") }));
  test("due on time: no fire missed, the next one after now", () =>
    expect(dueFires(at("00:05:00"), at("00:05:03"), next)).toEqual({ due: true, missed: 0, next: at("00:10:00") }));
  test("after an hour down: one run, eleven fires counted as missed", () =>
    expect(dueFires(at("00:05:00"), at("01:02:00"), next)).toEqual({ due: true, missed: 11, next: at("01:05:00") }));
  test("no next fire recorded: never due", () => expect(dueFires(null, at("01:00:00"), next).due).toBe(false));
});

describe("runs", () => {
  test("a due job runs the service's live image with the tenant's env and its argv; the exit code and logs are recorded", async () => {
    const a = await jobsApp();
    const specs: any[] = [];
    a.runtime.behaviour = (spec) =>
      spec.labels["staxa.job"] ? (specs.push(spec), { running: false, exitCode: 3, logs: ["hello", "sekret-value-1"] }) : {};
    const j = (await a.call("POST", `/api/v1/tenants/${a.id}/jobs`, job())).json.data;
    clock = new Date("2030-01-01T00:01:02Z");
    const [run] = await tickJobs(a.deps);
    expect(run).toMatchObject({ trigger: "schedule", status: "running", scheduled_for: "2030-01-01T00:01:00Z" });
    const live = a.deps.db.query("SELECT live_image FROM services WHERE tenant_id = ?").get(a.id) as { live_image: string };
    expect(specs.length).toBe(1);
    expect(specs[0]).toMatchObject({
      image: live.live_image,
      cmd: ["sh", "-c", "echo $GREETING"],
      network: "staxa-jobs-t",
      aliases: [],
      restartPolicy: "no",
      volumes: [],
    });
    expect(specs[0].env).toMatchObject({
      GREETING: "hi",
      API_KEY: "sekret-value-1",
      STAXA_JOB_ID: j.id,
      STAXA_JOB_RUN_ID: run!.id,
    });
    await Bun.sleep(50);
    const done = (await a.call("GET", `/api/v1/tenants/${a.id}/jobs/${j.id}/runs/${run!.id}`)).json.data;
    expect(done).toMatchObject({ status: "failed", exit_code: 3, trigger: "schedule", image: live.live_image });
    // The app printed a secret env value: the run's logs mask it.
    expect(done.logs).toBe("hello\n****");
    expect([...a.runtime.containers.values()].filter((c) => c.spec.labels["staxa.job"])).toEqual([]);
    expect((await a.call("GET", `/api/v1/tenants/${a.id}/jobs/${j.id}`)).json.data.next_run_at).toBe("2030-01-01T00:02:00Z");
  });

  test("forbid: a scheduled fire while a run is going is recorded skipped; run-now answers 409", async () => {
    const a = await jobsApp();
    a.runtime.behaviour = () => ({}); // job containers keep running
    clock = new Date("2030-01-01T00:00:30Z");
    const j = (await a.call("POST", `/api/v1/tenants/${a.id}/jobs`, job())).json.data;
    const first = await a.call("POST", `/api/v1/tenants/${a.id}/jobs/${j.id}/run`);
    expect(first.status).toBe(202);
    expect((await a.call("POST", `/api/v1/tenants/${a.id}/jobs/${j.id}/run`)).json.error.code).toBe("job_running");
    clock = new Date("2030-01-01T00:01:01Z");
    const [skipped] = await tickJobs(a.deps);
    expect(skipped).toMatchObject({
      status: "skipped",
      reason: `run ${first.json.data.id} is still going (concurrency_policy forbid)`,
    });
    const del = await a.call("DELETE", `/api/v1/tenants/${a.id}/jobs/${j.id}`);
    expect(del.status).toBe(204);
    expect([...a.runtime.containers.values()].filter((c) => c.spec.labels["staxa.job"])).toEqual([]);
  });

  test("replace: the running run ends replaced and its container is removed", async () => {
    const a = await jobsApp();
    a.runtime.behaviour = () => ({});
    const j = (await a.call("POST", `/api/v1/tenants/${a.id}/jobs`, job({ concurrency_policy: "replace" }))).json.data;
    const one = (await a.call("POST", `/api/v1/tenants/${a.id}/jobs/${j.id}/run`)).json.data;
    const two = (await a.call("POST", `/api/v1/tenants/${a.id}/jobs/${j.id}/run`)).json.data;
    const runs = (await a.call("GET", `/api/v1/tenants/${a.id}/jobs/${j.id}/runs`)).json.data;
    expect(runs.map((r: any) => [r.id, r.status])).toEqual([
      [two.id, "running"],
      [one.id, "replaced"],
    ]);
    expect([...a.runtime.containers.values()].filter((c) => c.spec.labels["staxa.job"]).length).toBe(1);
  });

  test("a paused job does not fire; resume waits for the next fire from now", async () => {
    const a = await jobsApp();
    clock = new Date("2030-01-01T00:00:30Z");
    const j = (await a.call("POST", `/api/v1/tenants/${a.id}/jobs`, job())).json.data;
    expect((await a.call("POST", `/api/v1/tenants/${a.id}/jobs/${j.id}/pause`)).json.data).toMatchObject({
      paused: true,
      next_run_at: null,
    });
    clock = new Date("2030-01-01T00:03:30Z");
    expect(await tickJobs(a.deps)).toEqual([]);
    expect((await a.call("POST", `/api/v1/tenants/${a.id}/jobs/${j.id}/resume`)).json.data).toMatchObject({
      paused: false,
      next_run_at: "2030-01-01T00:04:00Z",
    });
  });

  test("a catch-up run keeps its reason naming the missed fires after it finishes", async () => {
    const a = await jobsApp();
    a.runtime.behaviour = (spec) => (spec.labels["staxa.job"] ? { running: false, exitCode: 0 } : {});
    clock = new Date("2030-01-01T00:00:30Z");
    const j = (await a.call("POST", `/api/v1/tenants/${a.id}/jobs`, job())).json.data;
    clock = new Date("2030-01-01T00:03:10Z");
    const [run] = await tickJobs(a.deps);
    expect(run).toMatchObject({ trigger: "catch-up", scheduled_for: "2030-01-01T00:01:00Z" });
    await Bun.sleep(50);
    const done = (await a.call("GET", `/api/v1/tenants/${a.id}/jobs/${j.id}/runs/${run!.id}`)).json.data;
    expect(done).toMatchObject({
      status: "succeeded",
      exit_code: 0,
      reason: "2 earlier fire(s) missed while the appliance was down; run once",
    });
    expect((await a.call("GET", `/api/v1/tenants/${a.id}/jobs/${j.id}`)).json.data.next_run_at).toBe("2030-01-01T00:04:00Z");
  });
});
