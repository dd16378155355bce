// The CLI client: --help per command, usage errors showing the command's usage, delete confirmation, scheme-less
// login URLs, env set/unset as PATCH, create from a template. Against a fake API on loopback (requests recorded).
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HelpRequested, parseArgs, usageOf } from "../../../src/cli/args.ts";
import { CLIENT_COMMANDS, CLIENT_USAGE, runClient } from "../../../src/cli/client/index.ts";
import { normaliseUrl, withScheme } from "../../../src/cli/client/credentials.ts";
import type { Out } from "../../../src/cli/client/output.ts";

const KEY = "sk_live_" + "a".repeat(36);
const seen: Array<{ method: string; path: string; body: unknown }> = [];
const TEMPLATE = {
  id: "tpl_static",
  name: "Static Site",
  framework: "static",
  description: "d",
  repo_url: "https://github.com/staxa/template-static",
  default_env: {},
  default_port: 80,
};
let server: ReturnType<typeof Bun.serve>;
const home = mkdtempSync(join(tmpdir(), "staxa-cli-unit-"));
const saved = { ...process.env };

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      const text = await req.text();
      seen.push({ method: req.method, path: url.pathname + url.search, body: text ? JSON.parse(text) : undefined });
      const ok = (data: unknown, status = 200) => Response.json({ data, meta: { deployment_ids: ["dep_1"] } }, { status });
      if (url.pathname === "/api/v1/account") return ok({});
      if (url.pathname === "/api/v1/tenants" && req.method === "GET") return ok([{ id: "ten_abc", name: "web" }]);
      if (url.pathname === "/api/v1/tenants" && req.method === "POST")
        return ok({ id: "ten_new", name: "hello", status: "provisioning", url: "https://hello.x" }, 202);
      if (url.pathname === "/api/v1/tenants/ten_abc" && req.method === "DELETE")
        return ok({ id: "ten_abc", status: "deleting" }, 202);
      if (url.pathname === "/api/v1/tenants/ten_abc/env")
        return ok(
          [
            { key: "API_TOKEN", value: "****" },
            { key: "LOG", value: "debug" },
          ],
          202,
        );
      if (url.pathname === "/api/v1/templates/tpl_static") return ok(TEMPLATE);
      if (url.pathname === "/api/v1/templates") return ok([TEMPLATE]);
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
  process.env.STAXA_API_KEY = KEY;
});

/** A recording Out; `answer` plays the person at the terminal (undefined: no terminal). */
function fakeOut(answer?: string): Out & { out: string; err: string; asked: string[] } {
  const o = {
    json: false,
    out: "",
    err: "",
    asked: [] as string[],
    write: (s: string) => void (o.out += s),
    error: (s: string) => void (o.err += s),
  } as Out & { out: string; err: string; asked: string[] };
  if (answer !== undefined) o.ask = async (q) => (o.asked.push(q), answer);
  return o;
}

const writes = () => seen.filter((r) => r.method !== "GET");

describe("--help", () => {
  test("parseArgs: --help and -h ask for help; after -- they are positionals", () => {
    expect(() => parseArgs(["list", "--help"])).toThrow(HelpRequested);
    expect(() => parseArgs(["-h"])).toThrow(HelpRequested);
    expect(parseArgs(["--", "--help"]).positionals).toEqual(["--help"]);
  });

  test.each(CLIENT_COMMANDS)("staxa %s --help prints that command's usage and exits 0, logged in or not", async (cmd) => {
    delete process.env.STAXA_URL;
    const o = fakeOut();
    expect(await runClient(cmd, ["--help"], o)).toBe(0);
    expect(o.out).toContain(`staxa ${cmd}`);
    for (const other of CLIENT_COMMANDS.filter((c) => c !== cmd)) expect(o.out).not.toContain(`staxa ${other} `);
    expect(o.err).toBe("");
  });

  test("tenants --help lists every tenants subcommand", async () => {
    const o = fakeOut();
    expect(await runClient("tenants", ["--help"], o)).toBe(0);
    for (const sub of ["list", "create", "get", "delete"]) expect(o.out).toContain(`staxa tenants ${sub}`);
    expect(o.out).toContain("--template");
  });

  test.each([
    [["serve", "--help"], "staxa serve"],
    [["admin", "--help"], "staxa admin create-key"],
    [["backup", "-h"], "staxa backup"],
  ])(
    "server commands too: staxa %p",
    async (args, want) => {
      const p = Bun.spawn(["bun", join(import.meta.dir, "../../../src/main.ts"), ...args], {
        env: { PATH: process.env.PATH ?? "", HOME: home },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
      expect([code, err]).toEqual([0, ""]);
      expect(out).toContain(want);
      expect(out).not.toContain("staxa migrate");
    },
    30_000,
  );
});

describe("usage errors", () => {
  test("print the command's usage, not the whole list, and exit 2", async () => {
    const o = fakeOut();
    expect(await runClient("env", ["set", "web"], o)).toBe(2);
    expect(o.err).toContain("staxa env set");
    expect(o.err).not.toContain("staxa domains");
    expect(o.err).not.toContain("staxa tenants");
    expect(writes()).toEqual([]);
  });

  test("usageOf takes a command's lines with their continuation lines", () => {
    const u = usageOf(CLIENT_USAGE, "login")!;
    expect(u).toContain("STAXA_API_KEY");
    expect(u).not.toContain("tenants");
    expect(usageOf(CLIENT_USAGE, "nope")).toBeUndefined();
  });
});

describe("tenants delete asks first", () => {
  test("without a terminal and without --yes: refused (exit 2), nothing deleted", async () => {
    const o = fakeOut();
    expect(await runClient("tenants", ["delete", "web"], o)).toBe(2);
    expect(o.err).toContain("--yes");
    expect(writes()).toEqual([]);
  });

  test.each([
    ["n", 1],
    ["", 1],
    ["yes-please", 1],
    ["y", 0],
    ["YES", 0],
  ])("answer %p exits %p", async (answer, code) => {
    const o = fakeOut(answer);
    expect(await runClient("tenants", ["delete", "web"], o)).toBe(code);
    expect(o.asked[0]).toContain("web (ten_abc)");
    expect(writes().map((r) => `${r.method} ${r.path}`)).toEqual(code === 0 ? ["DELETE /api/v1/tenants/ten_abc"] : []);
  });

  test("--yes (or -y) deletes without asking", async () => {
    for (const flag of ["--yes", "-y"]) {
      seen.length = 0;
      const o = fakeOut("n");
      expect(await runClient("tenants", ["delete", "web", flag], o)).toBe(0);
      expect(o.asked).toEqual([]);
      expect(writes().map((r) => r.method)).toEqual(["DELETE"]);
    }
  });
});

describe("login URL without a scheme", () => {
  test.each([
    ["localhost:8080", "http://localhost:8080"],
    ["127.0.0.1:8080", "http://127.0.0.1:8080"],
    ["127.1.2.3", "http://127.1.2.3"],
    ["[::1]:8080", "http://[::1]:8080"],
    ["app.localhost", "http://app.localhost"],
    ["staxa.example.com", "https://staxa.example.com"],
    ["10.0.0.5:8080", "https://10.0.0.5:8080"],
    ["http://staxa.example.com", "http://staxa.example.com"],
    ["https://localhost:8443", "https://localhost:8443"],
  ])("%s → %s", (raw, want) => expect(withScheme(raw)).toBe(want));

  test("normaliseUrl still refuses what is not http(s)", () => {
    expect(normaliseUrl("localhost:8080/api/v1/")).toBe("http://localhost:8080");
    expect(() => normaliseUrl("ftp://x")).toThrow();
  });

  test("staxa login --url 127.0.0.1:PORT logs in over http and saves the full URL", async () => {
    const o = fakeOut();
    expect(await runClient("login", ["--url", `127.0.0.1:${server.port}`, "--key", KEY], o)).toBe(0);
    expect(JSON.parse(readFileSync(join(home, "staxa/config.json"), "utf8")).url).toBe(`http://127.0.0.1:${server.port}`);
  });
});

describe("env set/unset change only the named keys", () => {
  test("set sends PATCH {set}; no masked-value error", async () => {
    const o = fakeOut();
    expect(await runClient("env", ["set", "web", "LOG=debug", "MODE=a=b"], o)).toBe(0);
    expect(writes()).toEqual([
      { method: "PATCH", path: "/api/v1/tenants/ten_abc/env", body: { set: { LOG: "debug", MODE: "a=b" } } },
    ]);
    expect(seen.some((r) => r.method === "GET" && r.path.endsWith("/env"))).toBe(false); // secrets are never read back
    expect(o.out).toContain("redeploying: dep_1");
  });

  test("unset sends PATCH {unset}; set --replace sends PUT of exactly the given keys", async () => {
    expect(await runClient("env", ["unset", "web", "OLD", "OTHER"], fakeOut())).toBe(0);
    expect(await runClient("env", ["set", "web", "ONLY=1", "--replace"], fakeOut())).toBe(0);
    expect(writes()).toEqual([
      { method: "PATCH", path: "/api/v1/tenants/ten_abc/env", body: { unset: ["OLD", "OTHER"] } },
      { method: "PUT", path: "/api/v1/tenants/ten_abc/env", body: { ONLY: "1" } },
    ]);
  });
});

describe("tenants create --template", () => {
  test("posts the template's catalog repo_url and port (the reference's way)", async () => {
    expect(await runClient("tenants", ["create", "hello", "--template", "tpl_static"], fakeOut())).toBe(0);
    expect(writes()).toEqual([
      {
        method: "POST",
        path: "/api/v1/tenants",
        body: { name: "hello", source_type: "github", repo_url: TEMPLATE.repo_url, app_port: 80 },
      },
    ]);
  });

  test("exactly one source", async () => {
    expect(await runClient("tenants", ["create", "hello", "--template", "tpl_static", "--repo", "https://x/y"], fakeOut())).toBe(
      2,
    );
    expect(writes()).toEqual([]);
  });
});
