// `staxa previews`: the PUT body built from flags and KEY=VALUE pairs (usage errors before any call), and the
// commands against the real API in-process (served on loopback), including --json and an API error's exit code.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseArgs, UsageError } from "../../../src/cli/args.ts";
import { previewSettingsBody } from "../../../src/cli/client/previews.ts";
import { runClient } from "../../../src/cli/client/index.ts";
import type { Out } from "../../../src/cli/client/output.ts";
import { fakeApp } from "../../support/fakes.ts";

const body = (argv: string[]) => {
  const f = parseArgs(argv, ["clear-env"]);
  return previewSettingsBody(f, f.positionals.slice(2));
};

describe("previewSettingsBody", () => {
  test("flags and pairs become the body; --remove makes nulls; a value keeps its '=' and spaces", () => {
    expect(
      body([
        "set",
        "shop",
        "--enabled",
        "true",
        "--allow-forks",
        "false",
        "--ttl-hours",
        "12",
        "A=1",
        "B=x=y z",
        "--remove",
        "S,T",
      ]),
    ).toEqual({ enabled: true, allow_forks: false, ttl_hours: 12, env_overrides: { A: "1", B: "x=y z", S: null, T: null } });
    expect(body(["set", "shop", "--clear-env"])).toEqual({ env_overrides: {} });
  });
  test("nothing to set, a bad boolean, a bad number or a pair without '=' is a usage error", () => {
    for (const argv of [
      ["set", "shop"],
      ["set", "shop", "--enabled", "yes"],
      ["set", "shop", "--ttl-hours", "1d"],
      ["set", "shop", "NOEQUALS"],
    ])
      expect(() => body(argv)).toThrow(UsageError);
  });
});

describe("staxa previews against the API", () => {
  let server: ReturnType<typeof Bun.serve>;
  let a: Awaited<ReturnType<typeof fakeApp>>;
  const saved = { ...process.env };
  beforeAll(async () => {
    a = await fakeApp();
    const t = await a.call("POST", "/api/v1/tenants", { name: "cli-shop", source_type: "image", image_url: "example/app:1" });
    expect(t.status).toBe(202);
    await a.idle();
    server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => a.app.handle(req) });
    process.env.STAXA_URL = `http://127.0.0.1:${server.port}`;
    process.env.STAXA_API_KEY = a.key;
  });
  afterAll(() => {
    server.stop(true);
    process.env = saved;
  });
  const run = async (...argv: string[]) => {
    const o = { out: "", err: "" };
    const out: Out = { json: argv.includes("--json"), write: (s) => void (o.out += s), error: (s) => void (o.err += s) };
    const code = await runClient("previews", argv, out);
    return { code, ...o };
  };

  test("set, get (--json), enable/disable and list by tenant name", async () => {
    const set = await run("set", "cli-shop", "--enabled", "true", "--ttl-hours", "6", "MODE=preview", "--remove", "STRIPE_KEY");
    expect(set.code).toBe(0);
    expect(set.out).toContain("previews on");
    expect(set.out).toContain("MODE=preview -STRIPE_KEY");
    const got = await run("get", "cli-shop", "--json");
    expect(JSON.parse(got.out)).toMatchObject({ enabled: true, ttl_hours: 6 });
    expect((await run("disable", "cli-shop")).out).toContain("previews off");
    const list = await run("list", "cli-shop");
    expect([list.code, list.out.split("\n")[0]]).toEqual([0, "PR  NAME  STATUS  HEAD  FORK  EXPIRES  URL"]);
  });

  test("a value the API refuses exits 1 naming the field; an unknown subcommand exits 2", async () => {
    const bad = await run("set", "cli-shop", "LD_PRELOAD=/x.so");
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("[field: env_overrides.LD_PRELOAD]");
    expect((await run("frobnicate", "cli-shop")).code).toBe(2);
  });
});
