// Backups through the API over the fakes: bad input is a 400 naming its field; a volume backup stops the service,
// streams the helper's tar into an encrypted file and starts it again; restore feeds the same bytes back; the
// schedule fires by the clock and retention keeps `keep`; deleting the tenant deletes its files.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fakeApp } from "../../support/fakes.ts";
import type { ExecIo, HelperSpec } from "../../../src/runtime/types.ts";
import { tickBackups } from "../../../src/core/backups/schedule.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const TAR = Buffer.from("volume bytes: customer 'zebra-pelican-4471'\n");

async function backupApp() {
  let clock = new Date("2030-01-01T00:00:30Z");
  const a = await fakeApp();
  dirs.push(a.dataDir);
  a.deps.now = () => clock;
  const calls: string[] = [];
  const restored: Buffer[] = [];
  Object.assign(a.runtime, {
    stopContainer: async (id: string) => void calls.push(`stop ${id}`),
    startStopped: async (id: string) => void calls.push(`start ${id}`),
    runHelper: async (spec: HelperSpec, io: ExecIo = {}) => {
      calls.push(`helper ${spec.cmd[0]} ${spec.volumes[0]!.name}${spec.volumes[0]!.readOnly ? " ro" : ""}`);
      if (io.onStdout) await io.onStdout(TAR);
      if (io.stdin) for await (const c of io.stdin as AsyncIterable<Uint8Array>) restored.push(Buffer.from(c));
      return { exitCode: 0, stderr: "" };
    },
  });
  const r = await a.call("POST", "/api/v1/tenants", {
    name: "bk-t",
    source_type: "image",
    image_url: "example/cache:1",
    app_port: 6379,
    volumes: [{ name: "data", mount_path: "/data" }],
  });
  expect(r.status).toBe(202);
  await a.idle();
  return { ...a, id: r.json.data.id as string, calls, restored, tick: (ms: number) => (clock = new Date(clock.getTime() + ms)) };
}

describe("validation: a 400 naming the field", () => {
  const schedules: Array<[string, unknown, string]> = [
    ["a missing cron", { keep: 3 }, "cron"],
    ["a cron that is not one", { cron: "every night" }, "cron"],
    ["a seconds field", { cron: "* * * * * *" }, "cron"],
    ["an impossible minute", { cron: "61 * * * *" }, "cron"],
    ["a cron of another type", { cron: 5 }, "cron"],
    ["keep 0", { cron: "0 3 * * *", keep: 0 }, "keep"],
    ["keep 101", { cron: "0 3 * * *", keep: 101 }, "keep"],
    ["a fractional keep", { cron: "0 3 * * *", keep: 1.5 }, "keep"],
    ["keep as a string", { cron: "0 3 * * *", keep: "7" }, "keep"],
    ["an unknown field", { cron: "0 3 * * *", retention: 3 }, "retention"],
  ];
  for (const [what, body, field] of schedules)
    test(`PUT schedule: ${what}`, async () => {
      const a = await backupApp();
      const r = await a.call("PUT", `/api/v1/tenants/${a.id}/backups/schedule`, body);
      expect(r.status).toBe(400);
      expect(r.json.error.details.field).toBe(field);
    });
  const creates: Array<[string, unknown, string]> = [
    ["an unknown service", { service: "worker" }, "service"],
    ["a service name that is no name", { service: "../x" }, "service"],
    ["an unknown field", { volume: "data" }, "volume"],
  ];
  for (const [what, body, field] of creates)
    test(`POST backups: ${what}`, async () => {
      const a = await backupApp();
      const r = await a.call("POST", `/api/v1/tenants/${a.id}/backups`, body);
      expect(r.status).toBe(400);
      expect(r.json.error.details.field).toBe(field);
    });
  test("restore and delete of an unknown backup are 404", async () => {
    const a = await backupApp();
    expect((await a.call("POST", `/api/v1/tenants/${a.id}/backups/bkp_nope/restore`)).status).toBe(404);
    expect((await a.call("DELETE", `/api/v1/tenants/${a.id}/backups/bkp_nope`)).status).toBe(404);
    expect((await a.call("GET", `/api/v1/tenants/${a.id}/backups/schedule`)).status).toBe(404);
  });
});

describe("a volume backup over the fakes", () => {
  test("stops the service, tars each volume read-only into an encrypted file, starts it again; restore puts it back", async () => {
    const a = await backupApp();
    const r = await a.call("POST", `/api/v1/tenants/${a.id}/backups`);
    expect(r.status).toBe(202);
    expect(r.json.data).toHaveLength(1);
    expect(r.json.data[0]).toMatchObject({ service: "web", kind: "manual", method: "volume_tar", status: "queued" });
    await a.idle();
    const [b] = (await a.call("GET", `/api/v1/tenants/${a.id}/backups`)).json.data;
    expect(b).toMatchObject({ status: "succeeded", reason: null });
    expect(b.size_bytes).toBeGreaterThan(TAR.length);
    const svc = (await a.call("GET", `/api/v1/tenants/${a.id}/services`)).json.data[0];
    const cid = a.deps.db.query<{ container_id: string }, []>("SELECT container_id FROM services").get()!.container_id;
    expect(a.calls).toEqual([`stop ${cid}`, "helper tar staxa-bk-t.web.data ro", `start ${cid}`]);
    expect(svc.name).toBe("web");
    const dir = join(a.dataDir, "backups", a.id);
    const files = readdirSync(dir);
    expect(files).toEqual([`${b.id}.stxt`]);
    expect(readFileSync(join(dir, files[0]!)).includes(Buffer.from("zebra-pelican-4471"))).toBe(false);

    a.calls.length = 0;
    const rr = await a.call("POST", `/api/v1/tenants/${a.id}/backups/${b.id}/restore`);
    expect(rr.status).toBe(202);
    expect(rr.json.data.restore_status).toBe("running");
    await a.idle();
    expect(a.calls).toEqual([`stop ${cid}`, "helper find staxa-bk-t.web.data", "helper tar staxa-bk-t.web.data", `start ${cid}`]);
    expect(Buffer.concat(a.restored).equals(TAR)).toBe(true);
    const after = (await a.call("GET", `/api/v1/tenants/${a.id}/backups`)).json.data[0];
    expect(after).toMatchObject({ restore_status: "succeeded", restore_reason: null });

    expect((await a.call("DELETE", `/api/v1/tenants/${a.id}/backups/${b.id}`)).status).toBe(204);
    expect(readdirSync(dir)).toEqual([]);
    expect((await a.call("GET", `/api/v1/tenants/${a.id}/backups`)).json.data).toEqual([]);
  });

  test("a failing helper fails the backup with its stderr, leaves no file, and still starts the service", async () => {
    const a = await backupApp();
    Object.assign(a.runtime, { runHelper: async () => ({ exitCode: 2, stderr: "tar: not found" }) });
    await a.call("POST", `/api/v1/tenants/${a.id}/backups`);
    await a.idle();
    const [b] = (await a.call("GET", `/api/v1/tenants/${a.id}/backups`)).json.data;
    expect(b).toMatchObject({ status: "failed", reason: "tar exited with 2: tar: not found", size_bytes: null });
    expect(a.calls.at(-1)).toStartWith("start ");
    expect(readdirSync(join(a.dataDir, "backups", a.id))).toEqual([]);
    // a failed backup cannot be restored
    expect((await a.call("POST", `/api/v1/tenants/${a.id}/backups/${b.id}/restore`)).status).toBe(409);
  });

  test("a second backup of a service while one is queued is a 409", async () => {
    const a = await backupApp();
    expect((await a.call("POST", `/api/v1/tenants/${a.id}/backups`)).status).toBe(202);
    const again = await a.call("POST", `/api/v1/tenants/${a.id}/backups`, { service: "web" });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe("backup_running");
    await a.idle();
  });
});

describe("schedule", () => {
  test("fires by the clock, once per fire, and keeps the newest `keep` scheduled backups; a manual one stays", async () => {
    const a = await backupApp();
    await a.call("POST", `/api/v1/tenants/${a.id}/backups`);
    await a.idle();
    const put = await a.call("PUT", `/api/v1/tenants/${a.id}/backups/schedule`, { cron: "*/5 * * * *", keep: 2 });
    expect(put.status).toBe(200);
    expect(put.json.data).toMatchObject({ cron: "*/5 * * * *", keep: 2, next_run_at: "2030-01-01T00:05:00Z" });
    expect(tickBackups(a.deps)).toEqual([]); // not due yet
    for (let i = 0; i < 3; i++) {
      a.tick(5 * 60_000);
      expect(tickBackups(a.deps)).toHaveLength(1);
      expect(tickBackups(a.deps)).toEqual([]); // the same fire never twice
      await a.idle();
    }
    const list = (await a.call("GET", `/api/v1/tenants/${a.id}/backups`)).json.data;
    expect(list.map((b: any) => b.kind)).toEqual(["scheduled", "scheduled", "manual"]);
    expect(readdirSync(join(a.dataDir, "backups", a.id))).toHaveLength(3);
    expect((await a.call("DELETE", `/api/v1/tenants/${a.id}/backups/schedule`)).status).toBe(204);
    expect((await a.call("GET", `/api/v1/tenants/${a.id}/backups/schedule`)).status).toBe(404);
  });

  test("deleting the tenant deletes its backup files", async () => {
    const a = await backupApp();
    await a.call("POST", `/api/v1/tenants/${a.id}/backups`);
    await a.idle();
    const dir = join(a.dataDir, "backups", a.id);
    expect(readdirSync(dir)).toHaveLength(1);
    expect((await a.call("DELETE", `/api/v1/tenants/${a.id}`)).status).toBe(202);
    await a.idle();
    expect(existsSync(dir)).toBe(false);
  });
});
