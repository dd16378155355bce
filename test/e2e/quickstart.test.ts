// The README's Quick start, run as it is written: its sh block is read from README.md, `bash scripts/run.sh` starts
// (setup, build, the compiled appliance with its own Caddy), and every later command runs in order. Only the ports
// differ (env overrides and the README's fixed port numbers replaced, so no other suite collides); the data dir and
// HOME are fresh. It must end with curl printing the template's page through Caddy's internal CA, with the template
// built from the source inside the binary (no GitHub, no network beyond the package registries).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { dockerCli, removeByPrefix } from "../support/docker.ts";
import { TEMPLATE_BASE_IMAGES, ensureTemplateImages } from "../support/template-images.ts";

const REPO = resolve(import.meta.dir, "../..");
const BASE = 27000 + Math.floor(Math.random() * 600) * 3;
const PORTS = { admin: BASE, http: BASE + 1, https: BASE + 2 };
const PAGE = "Hello from the Staxa Static Site template";
const TENANT = "hello"; // the README's name: its Docker objects are staxa-hello*, removed before and after
const dir = mkdtempSync(join(tmpdir(), "staxa-e2e-quickstart-"));
const dataDir = join(dir, "data");
const home = join(dir, "home");
const work = join(dir, "work"); // terminal 2's directory: dist/ of the checkout, files the commands write stay here
let apiPort = 0;
let resolverPort = 0; // the appliance refuses 0 (any port) outside tests' in-process apps: a free one
let appliance: ReturnType<typeof Bun.spawn> | undefined;
let applianceOut = "";

/** The Quick start's commands: its first sh block, continuation lines joined, comment and blank lines dropped. */
function quickStartCommands(readme: string): string[] {
  const section = readme.split(/^## /m).find((s) => s.startsWith("Quick start\n"));
  const block = section && /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error("README.md has no ## Quick start with a ```sh block");
  const cmds: string[] = [];
  let cur = "";
  for (const line of block.split("\n").map((l) => l.trimEnd())) {
    if (!cur && (line.trim() === "" || line.trim().startsWith("#"))) continue;
    cur += (cur ? "\n" : "") + line;
    if (!line.endsWith("\\")) {
      cmds.push(cur);
      cur = "";
    }
  }
  return cmds;
}

// The README's fixed ports, each replaced by this run's: every one must occur, or the README changed under the test.
const PORT_REWRITES: Array<[RegExp, () => string]> = [
  [/localhost:8080\b/g, () => `localhost:${apiPort}`],
  [/localhost:2019\b/g, () => `localhost:${PORTS.admin}`],
  [/:443:127\.0\.0\.1\b/g, () => `:${PORTS.https}:127.0.0.1`],
  [/(https:\/\/[a-z0-9.-]+\.localhost)\//g, () => `$1:${PORTS.https}/`],
];
const rewrite = (cmd: string) => PORT_REWRITES.reduce((c, [re, to]) => c.replace(re, to()), cmd);

function freePort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const p = s.port!;
  s.stop(true);
  return p;
}

/** The environment of both terminals: the test's ports, fresh dirs, local stand-ins for the builder base images. */
function env(): Record<string, string> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => v !== undefined && !k.startsWith("STAXA_") && k !== "XDG_CONFIG_HOME"),
  ) as Record<string, string>;
  return {
    ...base,
    HOME: home,
    STAXA_DATA_DIR: dataDir,
    STAXA_PORT: String(apiPort),
    STAXA_HOST: "127.0.0.1",
    STAXA_HTTP_PORT: String(PORTS.http),
    STAXA_HTTPS_PORT: String(PORTS.https),
    STAXA_CADDY_ADMIN_URL: `http://127.0.0.1:${PORTS.admin}`,
    STAXA_RESOLVER_PORT: String(resolverPort),
    STAXA_LOG_LEVEL: "warn",
    STAXA_DRAIN_SEC: "0",
    ...TEMPLATE_BASE_IMAGES,
  };
}

async function run(cmd: string, timeoutMs: number): Promise<{ code: number | null; out: string; err: string }> {
  const p = Bun.spawn(["bash", "-euo", "pipefail", "-c", cmd], { cwd: work, env: env(), stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  clearTimeout(timer);
  return { code, out, err };
}

async function cleanupDocker(): Promise<void> {
  await removeByPrefix(`staxa-${TENANT}`);
  const imgs = (await dockerCli(["images", "-q", "--filter", `reference=staxa/${TENANT}*`])).out.split("\n").filter(Boolean);
  if (imgs.length) await dockerCli(["rmi", "-f", ...new Set(imgs)]);
}

beforeAll(async () => {
  for (const d of [dataDir, home, work]) mkdirSync(d, { recursive: true });
  symlinkSync(join(REPO, "dist"), join(work, "dist"));
  apiPort = freePort();
  resolverPort = freePort();
  await ensureTemplateImages();
  await cleanupDocker();
}, 600_000);

afterAll(async () => {
  if (appliance && appliance.exitCode === null) {
    appliance.kill("SIGTERM"); // run.sh exec'd the appliance: it stops its managed Caddy too
    const t = setTimeout(() => appliance?.kill("SIGKILL"), 20_000);
    await appliance.exited;
    clearTimeout(t);
  }
  await cleanupDocker();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

test("the README's Quick start, run literally, ends with curl printing the template's page over TLS from the internal CA", async () => {
  const cmds = quickStartCommands(readFileSync(join(REPO, "README.md"), "utf8"));
  expect(cmds[0]).toBe("bash scripts/run.sh");
  const block = cmds.join("\n");
  for (const [re] of PORT_REWRITES) expect(block).toMatch(re);
  expect(block).toContain("--template"); // a template, not a repo the reader must have

  // Terminal 1, in the background: setup, build, then the appliance in the foreground (run.sh execs it).
  appliance = Bun.spawn(["bash", "scripts/run.sh"], { cwd: REPO, env: env(), stdout: "pipe", stderr: "pipe" });
  const collect = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s as unknown as AsyncIterable<Uint8Array>) applianceOut += dec.decode(chunk, { stream: true });
  };
  void collect(appliance.stdout as ReadableStream<Uint8Array>);
  void collect(appliance.stderr as ReadableStream<Uint8Array>);
  const deadline = Date.now() + 480_000;
  while (
    !(await fetch(`http://127.0.0.1:${apiPort}/healthz`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (appliance.exitCode !== null) throw new Error(`run.sh exited ${appliance.exitCode}:\n${applianceOut.slice(-4000)}`);
    if (Date.now() > deadline) throw new Error(`the appliance did not answer:\n${applianceOut.slice(-4000)}`);
    await Bun.sleep(250);
  }
  await Bun.sleep(500); // the setup token is printed just before the API listens; let the pipe deliver it
  // run.sh tells the reader where the dashboard is, and the appliance the one-time setup token for it
  expect(applianceOut).toContain(`http://localhost:${apiPort}/`);
  const token = readFileSync(join(dataDir, "setup-token"), "utf8").trim();
  expect(token.length).toBeGreaterThan(10);
  expect(applianceOut).toContain(token);

  // Terminal 2: every later command, in order, each must succeed.
  let last = { code: 0 as number | null, out: "", err: "" };
  for (const cmd of cmds.slice(1)) {
    last = await run(rewrite(cmd), 420_000);
    if (last.code !== 0)
      console.log(
        `$ ${rewrite(cmd)}\n${last.out.slice(-3000)}\n${last.err.slice(-3000)}\nappliance:\n${applianceOut.slice(-3000)}`,
      );
    expect([cmd, last.code]).toEqual([cmd, 0]);
  }
  expect(cmds.at(-1)).toMatch(/^curl .*--cacert .*https:\/\/hello\.staxa\.localhost\//);
  expect(last.out).toContain(PAGE);

  // The certificate is the internal CA's: without its root, curl refuses it (60: peer certificate not trusted).
  const untrusted = await run(rewrite(cmds.at(-1)!.replace(/--cacert \S+ /, "")), 30_000);
  expect(untrusted.code).toBe(60);

  // Built from the source in the binary: the deployment's commit is the local template repo's, under the data dir.
  const { api_key } = JSON.parse(readFileSync(join(home, ".config/staxa/config.json"), "utf8"));
  const call = async (path: string) =>
    (await (
      await fetch(`http://127.0.0.1:${apiPort}/api/v1${path}`, { headers: { authorization: `Bearer ${api_key}` } })
    ).json()) as any;
  const t = (await call(`/tenants?search=${TENANT}`)).data.find((x: { name: string }) => x.name === TENANT);
  const dep = (await call(`/tenants/${t.id}`)).data.deployments[0];
  const repos = readdirSync(join(dataDir, "templates")).filter((d) => d.startsWith("tpl_static-"));
  expect(repos).toHaveLength(1);
  const head = Bun.spawnSync(["git", "-C", join(dataDir, "templates", repos[0]!), "rev-parse", "HEAD"])
    .stdout.toString()
    .trim();
  expect(dep.commit_sha).toBe(head);
  expect(existsSync(join(dataDir, "caddy"))).toBe(true); // run.sh's appliance started its own Caddy
}, 900_000);
