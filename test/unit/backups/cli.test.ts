// `staxa backups …` against a fake API on loopback: the requests each subcommand sends, and a restore that asks first.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runClient } from "../../../src/cli/client/index.ts";
import type { Out } from "../../../src/cli/client/output.ts";

const seen: Array<{ method: string; path: string; body: unknown }> = [];
const BACKUP = {
  id: "bkp_1",
  service: "db",
  kind: "manual",
  method: "pg_dump",
  status: "succeeded",
  size_bytes: 10,
  created_at: "t",
};
let server: ReturnType<typeof Bun.serve>;
const home = mkdtempSync(join(tmpdir(), "staxa-cli-backups-"));
const saved = { ...process.env };

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      const text = await req.text();
      seen.push({ method: req.method, path: url.pathname, body: text ? JSON.parse(text) : undefined });
      const ok = (data: unknown, status = 200) => Response.json({ data, meta: {} }, { status });
      if (url.pathname === "/api/v1/tenants") return ok([{ id: "ten_abc", name: "shop" }]);
      if (url.pathname === "/api/v1/tenants/ten_abc/backups") return ok(req.method === "GET" ? [BACKUP] : [BACKUP], 202);
      if (url.pathname === "/api/v1/tenants/ten_abc/backups/schedule") {
        if (req.method === "DELETE") return new Response(null, { status: 204 });
        return ok({ cron: "0 3 * * *", keep: 7, next_run_at: "x" });
      }
      if (url.pathname === "/api/v1/tenants/ten_abc/backups/bkp_1/restore")
        return ok({ ...BACKUP, restore_status: "running" }, 202);
      if (url.pathname === "/api/v1/tenants/ten_abc/backups/bkp_1") return new Response(null, { status: 204 });
      return Response.json({ error: { code: "not_found", message: "not found" } }, { status: 404 });
    },
  });
  process.env.XDG_CONFIG_HOME = home;
});
afterAll(() => {
  server.stop(true);
  rmSync(home, { recursive: true, force: true });
  process.env = saved;
});
beforeEach(() => {
  seen.length = 0;
  process.env.STAXA_URL = `http://127.0.0.1:${server.port}`;
  process.env.STAXA_API_KEY = "sk_live_" + "a".repeat(36);
});

function fakeOut(answer?: string): Out & { out: string; err: string } {
  const o = {
    json: false,
    out: "",
    err: "",
    write: (s: string) => void (o.out += s),
    error: (s: string) => void (o.err += s),
  } as Out & {
    out: string;
    err: string;
  };
  if (answer !== undefined) o.ask = async () => answer;
  return o;
}
const writes = () => seen.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path} ${JSON.stringify(r.body ?? null)}`);

describe("staxa backups", () => {
  test("list prints the table", async () => {
    const o = fakeOut();
    expect(await runClient("backups", ["list", "shop"], o)).toBe(0);
    expect(o.out).toContain("bkp_1");
    expect(o.out).toContain("pg_dump");
  });
  test("create sends the service when given", async () => {
    expect(await runClient("backups", ["create", "shop", "--service", "db"], fakeOut())).toBe(0);
    expect(await runClient("backups", ["create", "shop"], fakeOut())).toBe(0);
    expect(writes()).toEqual([
      'POST /api/v1/tenants/ten_abc/backups {"service":"db"}',
      "POST /api/v1/tenants/ten_abc/backups null",
    ]);
  });
  test("restore without a terminal and without --yes is refused, nothing sent", async () => {
    const o = fakeOut();
    expect(await runClient("backups", ["restore", "shop", "bkp_1"], o)).toBe(2);
    expect(o.err).toContain("--yes");
    expect(writes()).toEqual([]);
  });
  test("restore answered n sends nothing; y or --yes restores", async () => {
    expect(await runClient("backups", ["restore", "shop", "bkp_1"], fakeOut("n"))).toBe(1);
    expect(writes()).toEqual([]);
    expect(await runClient("backups", ["restore", "shop", "bkp_1"], fakeOut("y"))).toBe(0);
    expect(await runClient("backups", ["restore", "shop", "bkp_1", "--yes"], fakeOut())).toBe(0);
    expect(writes()).toEqual(Array(2).fill("POST /api/v1/tenants/ten_abc/backups/bkp_1/restore null"));
  });
  test("schedule: shown, set with --cron/--keep, removed with --off", async () => {
    expect(await runClient("backups", ["schedule", "shop"], fakeOut())).toBe(0);
    expect(await runClient("backups", ["schedule", "shop", "--cron", "0 3 * * *", "--keep", "5"], fakeOut())).toBe(0);
    expect(await runClient("backups", ["schedule", "shop", "--off"], fakeOut())).toBe(0);
    expect(writes()).toEqual([
      'PUT /api/v1/tenants/ten_abc/backups/schedule {"cron":"0 3 * * *","keep":5}',
      "DELETE /api/v1/tenants/ten_abc/backups/schedule null",
    ]);
    expect(await runClient("backups", ["schedule", "shop", "--keep", "x", "--cron", "0 3 * * *"], fakeOut())).toBe(2);
  });
  test("delete sends DELETE", async () => {
    expect(await runClient("backups", ["delete", "shop", "bkp_1"], fakeOut())).toBe(0);
    expect(writes()).toEqual(["DELETE /api/v1/tenants/ten_abc/backups/bkp_1 null"]);
  });
});
