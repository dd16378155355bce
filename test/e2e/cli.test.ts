// The compiled `staxa` binary as a client of a running appliance (the same binary serving, real Docker,
// Caddy and git): login, tenants, a deploy followed stage by stage, env, logs, and the exit codes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { dockerCli, ensureTestImages, removeByPrefix, uniqueName } from "../support/docker.ts";
import { commitVersion, fixtureRepo } from "../support/e2e-app.ts";
import { freePort } from "../support/ports.ts";

const RESOLVER_PORT = freePort(); // its own resolver: none left by an earlier test answers for it

const ROOT = join(import.meta.dir, "../..");
const PREFIX = uniqueName("e2cli");
const BASE = "e2e-cli.test";
const ADMIN_PORT = 23800 + Math.floor(Math.random() * 400) * 2;
const HTTP_PORT = ADMIN_PORT + 1;
const dir = mkdtempSync(join(tmpdir(), "staxa-e2e-cli-"));
const bin = join(dir, "staxa");
const home = join(dir, "home");
const dataDir = join(dir, "data");
let port = 0;
let caddy: TestCaddy;
let server: ReturnType<typeof Bun.spawn> | undefined;
let key = "";
let repo = "";
const name = `${PREFIX}-app`;

const serverEnv = () => ({
  ...process.env,
  STAXA_DATA_DIR: dataDir,
  STAXA_PORT: String(port),
  STAXA_HOST: "127.0.0.1",
  STAXA_MANAGE_CADDY: "0",
  STAXA_LOG_LEVEL: "error",
  STAXA_RESOLVER_PORT: String(RESOLVER_PORT),
  STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
  STAXA_BASE_DOMAIN: BASE,
  STAXA_PUBLIC_SCHEME: "http",
  STAXA_HTTP_PORT: String(HTTP_PORT),
  STAXA_HTTPS_PORT: String(HTTP_PORT + 800),
  STAXA_ALLOW_FILE_REPOS: "1",
  STAXA_HEALTH_TIMEOUT_SEC: "8",
  STAXA_DRAIN_SEC: "0",
});

/** Runs the client with a private HOME and none of the server's settings (as on a laptop). */
async function cli(args: string[], env: Record<string, string> = {}) {
  const p = Bun.spawn([bin, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: home, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, out, err };
}

beforeAll(async () => {
  const build = Bun.spawnSync(["bun", "run", "build"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`bun run build failed: ${build.stderr.toString()}`);
  copyFileSync(join(ROOT, "dist/staxa"), bin); // a private copy: other suites rebuild dist/ meanwhile
  Bun.spawnSync(["chmod", "0755", bin]);
  await ensureTestImages();
  caddy = await startCaddy({ adminPort: ADMIN_PORT });
  port = freePort();
  const k = Bun.spawnSync([bin, "admin", "create-key", "--email", "cli@example.com"], { env: serverEnv() });
  if (k.exitCode !== 0) throw new Error(k.stderr.toString());
  key = k.stdout.toString().trim();
  server = Bun.spawn([bin, "serve"], { env: serverEnv(), stdout: "ignore", stderr: "ignore" });
  const deadline = Date.now() + 20_000;
  while (
    !(await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (Date.now() > deadline) throw new Error("the appliance did not start");
    await Bun.sleep(100);
  }
  repo = await fixtureRepo("cli v1");
}, 180_000);

afterAll(async () => {
  if (server && server.exitCode === null) server.kill("SIGKILL");
  await removeByPrefix(`staxa-${PREFIX}`);
  const imgs = (await dockerCli(["images", "-q", "--filter", `reference=staxa/${PREFIX}*`])).out.split("\n").filter(Boolean);
  if (imgs.length) await dockerCli(["rmi", "-f", ...imgs]);
  await caddy?.stop();
  rmSync(dir, { recursive: true, force: true });
  if (repo) rmSync(repo, { recursive: true, force: true });
}, 60_000);

describe("staxa as a client", () => {
  test("login: usage errors exit 2, a wrong key exits 1, a good one is saved 0600", async () => {
    expect((await cli(["login", "--url", `http://127.0.0.1:${port}`])).code).toBe(2);
    expect((await cli(["tenants", "list"])).code).toBe(2); // not logged in yet
    const bad = await cli(["login", "--url", `http://127.0.0.1:${port}`, "--key", "sk_live_" + "x".repeat(36)]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("unauthorized");
    const ok = await cli(["login", "--url", `http://127.0.0.1:${port}/`, "--key", key]);
    expect(ok.code).toBe(0);
    const file = join(home, ".config/staxa/config.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await Bun.file(file).json()).toEqual({ url: `http://127.0.0.1:${port}`, api_key: key });
  });

  test("tenants list --json is machine-readable", async () => {
    const r = await cli(["tenants", "list", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([]);
  });

  test("env STAXA_URL / STAXA_API_KEY override the file", async () => {
    const r = await cli(["tenants", "list"], {
      STAXA_URL: `http://127.0.0.1:${port}`,
      STAXA_API_KEY: "sk_live_" + "y".repeat(36),
    });
    expect(r.code).toBe(1);
  });

  test("tenants create --wait follows the first deploy to ready", async () => {
    const r = await cli(["tenants", "create", name, "--repo", `file://${repo}`, "--port", "3000", "--wait"]);
    expect([r.code, r.err]).toEqual([0, ""]);
    for (const stage of ["provision", "build", "deploy", "health", "route", "ready"]) expect(r.out).toContain(` ${stage}`);
    expect(r.out).toMatch(/deployment dep_\w+ succeeded/);
    const got = await cli(["tenants", "get", name, "--json"]);
    expect(JSON.parse(got.out)).toMatchObject({ name, status: "ready" });
  }, 180_000);

  test("bad input from the API exits 1 and names the field", async () => {
    const dup = await cli(["tenants", "create", "Bad Name!", "--repo", `file://${repo}`]);
    expect(dup.code).toBe(1);
    expect(dup.err).toContain("field: name");
    expect((await cli(["tenants", "get", `${PREFIX}-missing`])).code).toBe(1);
    expect((await cli(["tenants", "explode"])).code).toBe(2);
    expect((await cli(["tenants", "create", "x"])).code).toBe(2);
  });

  test("env set changes only the named keys; env get shows them; a secret is kept without being retyped", async () => {
    expect((await cli(["env", "set", name, "GREETING=hello", "MODE=a=b"])).code).toBe(0);
    expect((await cli(["env", "set", name, "OTHER=1"])).code).toBe(0);
    const got = await cli(["env", "get", name]);
    expect(got.code).toBe(0);
    expect(got.out).toContain("GREETING=hello\n");
    expect(got.out).toContain("MODE=a=b\n");
    expect(got.out).toContain("OTHER=1\n");
    expect((await cli(["env", "set", name, "API_TOKEN=s3cret-value"])).code).toBe(0);
    const more = await cli(["env", "set", name, "MORE=2"]);
    expect([more.code, more.err]).toEqual([0, ""]);
    expect((await cli(["env", "unset", name, "OTHER"])).code).toBe(0);
    const after = await cli(["env", "get", name]);
    expect(after.out).toBe("API_TOKEN=****\nGREETING=hello\nMODE=a=b\nMORE=2\n");
    const bad = await cli(["env", "set", name, "1BAD=x"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("field: env.set.1BAD");
    expect((await cli(["env", "set", name, "NOEQUALS"])).code).toBe(2);
  }, 120_000);

  test("deploy follows the stages and exits 0; a broken version exits 1", async () => {
    await commitVersion(repo, "cli v2");
    const ok = await cli(["deploy", name, "--branch", "main"]);
    expect([ok.code, ok.err]).toEqual([0, ""]);
    expect(ok.out).toMatch(/deployment dep_\w+ queued/);
    expect(ok.out).toContain(" ready");
    await commitVersion(repo, "cli v3", { cmd: ["sh", "-c", "exit 3"] });
    const bad = await cli(["deploy", name]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/deployment dep_\w+ failed/);
    const json = await cli(["deploy", name, "--json"]);
    expect(json.code).toBe(1);
    const lines = json.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ status: "failed" });
    expect(lines.some((l) => l.stage === "error")).toBe(true);
  }, 240_000);

  test("logs prints the container's output", async () => {
    const r = await cli(["logs", name, "--lines", "5"]);
    expect(r.code).toBe(0);
  });

  test("tenants delete: refused without a terminal unless --yes", async () => {
    const refused = await cli(["tenants", "delete", name]);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain("--yes");
    expect(JSON.parse((await cli(["tenants", "get", name, "--json"])).out).status).not.toBe("deleting");
    const r = await cli(["tenants", "delete", name, "--yes"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("deleting");
  });

  test("--help prints the command's usage; login takes a URL without a scheme", async () => {
    const help = await cli(["tenants", "--help"]);
    expect([help.code, help.err]).toEqual([0, ""]);
    expect(help.out).toContain("staxa tenants delete");
    expect(help.out).not.toContain("staxa env");
    const login = await cli(["login", "--url", `127.0.0.1:${port}`, "--key", key]);
    expect(login.code).toBe(0);
    expect((await Bun.file(join(home, ".config/staxa/config.json")).json()).url).toBe(`http://127.0.0.1:${port}`);
  });
});
