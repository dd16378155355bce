// Failures explain themselves (issue 22): the socket the app really opened, the cause in words, the build log up to
// the failure line, the framework on every deployment, status_reason in the tenant list.
import { describe, expect, test } from "bun:test";
import { fakeApp } from "../../support/fakes.ts";
import { parseProcNetTcp } from "../../../src/runtime/listening-sockets.ts";
import { likelyCause } from "../../../src/core/deploy/health-cause.ts";

const gitBody = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  source_type: "github",
  repo_url: "https://example.com/acme/app.git",
  ...extra,
});

async function failedDeploy(a: Awaited<ReturnType<typeof fakeApp>>, name: string, extra: Record<string, unknown> = {}) {
  const r = await a.call("POST", "/api/v1/tenants", gitBody(name, extra));
  await a.idle();
  const id = r.json.data.id as string;
  const dep = (await a.call("GET", `/api/v1/tenants/${id}/deployments`)).json.data[0];
  return { id, dep, err: a.ctx.bus.recent(id).find((e) => e.stage === "error") };
}

describe("failures explain themselves", () => {
  test("an app bound to 127.0.0.1 fails health saying so, and how to fix it", async () => {
    const a = await fakeApp();
    a.runtime.behaviour = () => ({
      listening: [{ address: "127.0.0.1", port: 3000 }],
      logs: ["Server listening at http://127.0.0.1:3000"],
    });
    const { dep, err } = await failedDeploy(a, "loopback");
    expect(dep.status).toBe("failed");
    expect(dep.reason).toContain("your app listens on 127.0.0.1:3000 only; bind 0.0.0.0 or read HOST/PORT");
    expect(err!.data).toMatchObject({
      failed_stage: "health",
      listening: [{ address: "127.0.0.1", port: 3000 }],
      likely_cause: "your app listens on 127.0.0.1:3000 only; bind 0.0.0.0 or read HOST/PORT",
    });
  });

  test("an app on another port is served there when no port was configured, and that port is recorded", async () => {
    const a = await fakeApp();
    a.runtime.behaviour = () => ({ listening: [{ address: "::", port: 8080 }] });
    const r = await a.call("POST", "/api/v1/tenants", gitBody("otherport"));
    await a.idle();
    const t = (await a.call("GET", `/api/v1/tenants/${r.json.data.id}`)).json.data;
    expect(t.status).toBe("ready");
    expect(t.deployments[0]).toMatchObject({ status: "succeeded" });
    expect(a.ctx.db.query("SELECT port FROM deployments WHERE id = ?").get(t.deployments[0].id)).toEqual({ port: 8080 });
    expect(a.ctx.db.query("SELECT live_port FROM services WHERE tenant_id = ?").get(t.id)).toEqual({ live_port: 8080 });
    expect(a.proxy.routes.get("otherport.web")!.upstream).toBe(`${a.runtime.running()[0]!.ip}:8080`);
    const done = a.ctx.bus.recent(r.json.data.id).find((e) => e.stage === "health" && e.status === "done")!;
    expect(done.message).toContain("the app listens on port 8080, not on 3000");
  });

  test("with app_port set, the failure names the port the app does listen on", async () => {
    const a = await fakeApp();
    a.runtime.behaviour = () => ({ listening: [{ address: "0.0.0.0", port: 8080 }] });
    const { dep } = await failedDeploy(a, "fixedport", { app_port: 3000 });
    expect(dep.reason).toContain(
      "your app listens on port 8080, not on 3000 (the PORT it was given); read PORT, or set the app port to 8080",
    );
  });

  test("a crash and an HTTP 500 are told apart in words", async () => {
    const a = await fakeApp();
    a.runtime.behaviour = () => ({ running: false, exitCode: 1 });
    expect((await failedDeploy(a, "crash")).dep.reason).toContain("Likely cause: the app crashed while starting (exit code 1)");
    a.runtime.behaviour = () => ({ httpStatus: 500 });
    expect((await failedDeploy(a, "five")).dep.reason).toContain("Likely cause: the app answers / with HTTP 500");
  });

  test("a refused build's log holds the steps and the failure line, and names the framework", async () => {
    const a = await fakeApp();
    a.git.files = { Gemfile: 'gem "rails"\n', "package.json": "{}" };
    const { id, dep } = await failedDeploy(a, "rails");
    expect(dep).toMatchObject({ status: "failed", framework: "rails" });
    const log = (await a.call("GET", `/api/v1/tenants/${id}/deployments/${dep.id}/logs`)).text;
    expect(log).toContain("[provision] Network staxa-rails ready");
    expect(log).toContain("[build] Cloning main");
    expect(log).toContain("Cloning into");
    expect(log.trimEnd().split("\n").at(-1)).toStartWith("[error] build failed: Rails app detected");
    const list = (await a.call("GET", "/api/v1/tenants")).json.data;
    expect(list.find((t: { id: string }) => t.id === id)).toMatchObject({
      status: "failed",
      status_reason: expect.stringContaining("Rails app detected"),
    });
  });

  test("a build failing after detection and a rollback both record the framework", async () => {
    const a = await fakeApp();
    const r = await a.call("POST", "/api/v1/tenants", gitBody("fw"));
    await a.idle();
    const id = r.json.data.id as string;
    const first = r.json.data.deployments[0].id as string;
    a.runtime.buildError = new Error("build step failed");
    const second = (await a.call("POST", `/api/v1/tenants/${id}/deployments`, {})).json.data.id;
    await a.idle();
    expect((await a.call("GET", `/api/v1/tenants/${id}/deployments/${second}`)).json.data).toMatchObject({
      status: "failed",
      framework: "dockerfile",
    });
    const back = (await a.call("POST", `/api/v1/tenants/${id}/deployments/${first}/rollback`)).json.data.id;
    await a.idle();
    expect((await a.call("GET", `/api/v1/tenants/${id}/deployments/${back}`)).json.data).toMatchObject({
      status: "succeeded",
      framework: "dockerfile",
    });
  });
});

describe("/proc/net/tcp", () => {
  test("listening sockets of both tables, loopback and v4-mapped included; other states skipped", () => {
    const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000 10001        0 1 1 0000000000000000 100 0 0 10 0
   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 10001        0 2 1 0000000000000000 100 0 0 10 0
   2: 0200000A:1F90 0300000A:D2F0 01 00000000:00000000 00:00000000 00000000 10001        0 3 1 0000000000000000 20 4 30 10 -1
`;
    const tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 10001        0 4 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 10001        0 5 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:1388 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 10001        0 6 1 0000000000000000 100 0 0 10 0
`;
    expect(parseProcNetTcp(tcp)).toEqual([
      { address: "127.0.0.1", port: 3000 },
      { address: "0.0.0.0", port: 8080 },
    ]);
    expect(parseProcNetTcp(tcp6)).toEqual([
      { address: "::", port: 3000 },
      { address: "::1", port: 80 },
      { address: "127.0.0.1", port: 5000 },
    ]);
  });
});

describe("likely cause from the socket table", () => {
  const f = (listening: Array<{ address: string; port: number }>) => ({
    message: "",
    url: "http://10.0.0.2:3000/",
    last_status: null,
    last_error: "ECONNREFUSED",
    exit_code: null,
    oom_killed: false,
    timed_out: false,
    logs: [],
    listening,
    listens_on_port: null,
    likely_cause: "",
  });
  test("an open other port wins over a loopback side port; loopback on the expected port is named", () => {
    expect(
      likelyCause(
        f([
          { address: "127.0.0.1", port: 9229 },
          { address: "0.0.0.0", port: 8080 },
        ]),
        3000,
        30_000,
      ),
    ).toMatchObject({ otherPort: 8080 });
    expect(
      likelyCause(
        f([
          { address: "::1", port: 3000 },
          { address: "0.0.0.0", port: 8080 },
        ]),
        3000,
        30_000,
      ).words,
    ).toBe("your app listens on [::1]:3000 only; bind 0.0.0.0 or read HOST/PORT");
    expect(likelyCause(f([]), 3000, 30_000).words).toContain("nothing accepted connections on port 3000 within 30s");
  });
});
