// install.sh on a fresh Debian 12 (debootstrap root imported into Docker): installs, answers /healthz, re-runs as a no-op, uninstalls.
// Docker-in-Docker is not attempted: the container runs install.sh --no-systemd --skip-docker (documented flags).
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";

const REPO = resolve(import.meta.dir, "../..");
const CACHE = "/var/cache/staxa-test";
const ROOTFS_TAR = join(CACHE, "debian-12-rootfs.tar");
const IMAGE = "staxa-test/debian:12";
const NAME = `staxa-inst-${randomBytes(4).toString("hex")}`;

interface Ran {
  code: number;
  out: string;
  err: string;
}

/** Runs argv (never a shell string) and kills it after `ms`; a hung step fails instead of hanging the suite. */
async function run(argv: string[], ms: number, opts: { stdin?: Blob; cwd?: string } = {}): Promise<Ran> {
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe", stdin: opts.stdin ?? "ignore", cwd: opts.cwd });
  const timer = setTimeout(() => proc.kill("SIGKILL"), ms);
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, out, err };
}

async function must(argv: string[], ms: number, opts: { cwd?: string } = {}): Promise<string> {
  const r = await run(argv, ms, opts);
  if (r.code !== 0) throw new Error(`${argv.join(" ")} exited ${r.code}\n${r.out.slice(-2000)}\n${r.err.slice(-2000)}`);
  return r.out;
}

const inside = (cmd: string[], ms = 30_000) => run(["docker", "exec", NAME, ...cmd], ms);

/** The Debian mirror this machine's apt uses (the only one reachable here). */
function debianMirror(): string {
  const dir = "/etc/apt/sources.list.d";
  const texts = [existsSync("/etc/apt/sources.list") ? readFileSync("/etc/apt/sources.list", "utf8") : ""];
  if (existsSync(dir))
    for (const f of readdirSync(dir).filter((f) => /\.(sources|list)$/.test(f))) texts.push(readFileSync(join(dir, f), "utf8"));
  for (const t of texts) {
    const m = /^URIs:\s*(\S+\/debian)\s*$/m.exec(t) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\s+bookworm\s/m.exec(t);
    if (m) return m[1];
  }
  return "http://deb.debian.org/debian";
}

/** Builds (once per machine: the tarball is cached) and imports the Debian 12 image. */
async function ensureImage(): Promise<void> {
  if ((await run(["docker", "image", "inspect", IMAGE], 20_000)).code === 0) return;
  if (!existsSync(ROOTFS_TAR)) {
    mkdirSync(CACHE, { recursive: true });
    const work = join(CACHE, `build-${process.pid}`);
    rmSync(work, { recursive: true, force: true });
    try {
      await must(
        ["debootstrap", "--variant=minbase", "--include=ca-certificates", "bookworm", join(work, "root"), debianMirror()],
        240_000,
      );
      await must(["tar", "-C", join(work, "root"), "-cf", `${ROOTFS_TAR}.tmp`, "."], 120_000);
      renameSync(`${ROOTFS_TAR}.tmp`, ROOTFS_TAR);
    } finally {
      rmSync(work, { recursive: true, force: true });
      rmSync(`${ROOTFS_TAR}.tmp`, { force: true });
    }
  }
  await must(["docker", "import", ROOTFS_TAR, IMAGE], 120_000);
}

async function envFileState(): Promise<string> {
  const r = await inside([
    "sh",
    "-c",
    "sha256sum /etc/staxa/staxa.env /etc/staxa/caddy.json /usr/local/bin/staxa && stat -c '%n %a %Y' /etc/staxa/staxa.env && cat /run/staxa/staxa.pid /run/staxa/caddy.pid",
  ]);
  expect(r.code).toBe(0);
  return r.out;
}

const install = (...flags: string[]) => inside(["bash", "/src/install.sh", "--no-systemd", "--skip-docker", ...flags], 180_000);

beforeAll(async () => {
  if (!existsSync(join(REPO, "dist/staxa"))) await must(["bun", "run", "build"], 180_000, { cwd: REPO });
  await ensureImage();
  // --rm + a bounded sleep: even a killed test run leaves no container behind for long.
  await must(["docker", "run", "-d", "--rm", "--init", "--name", NAME, "-v", `${REPO}:/src:ro`, IMAGE, "sleep", "900"], 60_000);
}, 420_000);

afterAll(async () => {
  await run(["docker", "rm", "-f", NAME], 60_000);
});

describe("install.sh in a fresh Debian 12 container", () => {
  let firstState = "";

  test("installs caddy, the binary and settings, starts the appliance, prints the URL and setup token", async () => {
    const r = await install("--binary", "/src/dist/staxa");
    expect(r.err).not.toContain("error:");
    expect(r.code).toBe(0);
    expect(r.out).toContain("dashboard: http://");
    expect(r.out).toMatch(/one-time setup token: stx_setup_[a-z0-9]+/);
    const health = await inside(["curl", "-fsS", "http://127.0.0.1:8080/healthz"]);
    expect(health.code).toBe(0);
    expect(JSON.parse(health.out)).toEqual({ status: "ok" });
    const mode = await inside(["stat", "-c", "%a %U", "/etc/staxa/staxa.env"]);
    expect(mode.out.trim()).toBe("600 root");
    const env = (await inside(["cat", "/etc/staxa/staxa.env"])).out;
    expect(env).toMatch(/^STAXA_METRICS_TOKEN=[A-Za-z0-9]{20,}$/m);
    expect(env).toContain("STAXA_MANAGE_CADDY=0");
    // Caddy's admin API answers on loopback with the appliance's config pushed into it.
    const caddy = await inside(["curl", "-fsS", "http://127.0.0.1:2019/config/admin/listen"]);
    expect(caddy.out.trim()).toBe('"127.0.0.1:2019"');
    firstState = await envFileState();
  }, 240_000);

  test("a second run changes nothing: same env file (hash and mtime), same processes", async () => {
    expect(firstState).not.toBe("");
    const r = await install("--binary", "/src/dist/staxa");
    expect(r.code).toBe(0);
    expect(r.out).not.toContain("installing");
    expect(r.out).not.toContain("starting");
    expect(r.out).not.toContain("wrote /etc/staxa/staxa.env");
    expect(await envFileState()).toBe(firstState);
    expect((await inside(["curl", "-fsS", "http://127.0.0.1:8080/healthz"])).code).toBe(0);
  }, 120_000);

  test("--uninstall stops and removes the appliance but keeps the data and settings", async () => {
    const r = await inside(["bash", "/src/install.sh", "--uninstall", "--no-systemd"], 60_000);
    expect(r.code).toBe(0);
    expect((await inside(["test", "-e", "/usr/local/bin/staxa"])).code).not.toBe(0);
    expect((await inside(["test", "-f", "/var/lib/staxa/staxa.db"])).code).toBe(0);
    expect((await inside(["test", "-f", "/etc/staxa/staxa.env"])).code).toBe(0);
    expect((await inside(["curl", "-fsS", "--max-time", "3", "http://127.0.0.1:8080/healthz"])).code).not.toBe(0);
  }, 90_000);
});
