// Browser-test harness: the compiled binary with a real Caddy, and Debian's Chromium driven by playwright-core.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { freePort } from "../support/ports.ts";

export const ROOT = join(import.meta.dir, "../..");
export const SHOTS = join(ROOT, "test-artifacts", "screenshots");

export interface Appliance {
  url: string;
  dataDir: string;
  httpPort: number;
  baseDomain: string;
  stop(): Promise<void>;
}

/** Builds dist/staxa, copies it privately, starts it beside a throwaway Caddy; waits for /healthz. `env` adds settings. */
export async function startAppliance(opts: { baseDomain: string; env?: Record<string, string> }): Promise<Appliance> {
  const build = Bun.spawnSync(["bun", "run", "build"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`bun run build failed: ${build.stderr.toString().slice(-2000)}`);
  const dir = mkdtempSync(join(tmpdir(), "staxa-browser-"));
  const bin = join(dir, "staxa");
  copyFileSync(join(ROOT, "dist/staxa"), bin); // other suites rebuild dist/ meanwhile
  Bun.spawnSync(["chmod", "0755", bin]);
  const adminPort = 24600 + Math.floor(Math.random() * 400) * 2;
  const httpPort = adminPort + 1;
  const caddy: TestCaddy = await startCaddy({ adminPort });
  const port = freePort();
  const dataDir = join(dir, "data");
  const server = Bun.spawn([bin, "serve"], {
    env: {
      ...process.env,
      STAXA_DATA_DIR: dataDir,
      STAXA_PORT: String(port),
      STAXA_HOST: "127.0.0.1",
      STAXA_MANAGE_CADDY: "0",
      STAXA_LOG_LEVEL: "error",
      STAXA_RESOLVER_PORT: String(freePort()),
      STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
      STAXA_BASE_DOMAIN: opts.baseDomain,
      STAXA_PUBLIC_SCHEME: "http",
      STAXA_HTTP_PORT: String(httpPort),
      STAXA_HTTPS_PORT: String(httpPort + 800),
      STAXA_ALLOW_FILE_REPOS: "1",
      STAXA_HEALTH_TIMEOUT_SEC: "8",
      STAXA_DRAIN_SEC: "0",
      ...opts.env,
    },
    stdout: "ignore",
    stderr: Bun.file(join(dir, "server.log")),
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  while (
    !(await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (Date.now() > deadline || server.exitCode !== null)
      throw new Error(
        `the appliance did not start: ${await Bun.file(join(dir, "server.log"))
          .text()
          .catch(() => "")}`,
      );
    await Bun.sleep(100);
  }
  return {
    url,
    dataDir,
    httpPort,
    baseDomain: opts.baseDomain,
    async stop() {
      server.kill("SIGTERM");
      await Promise.race([server.exited, Bun.sleep(5000)]);
      if (server.exitCode === null) server.kill("SIGKILL");
      await caddy.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Headless Debian Chromium with a fresh profile; tenant hosts resolve to this machine. */
export async function launchBrowser(baseDomain: string): Promise<{ ctx: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), "staxa-chromium-"));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 860 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--host-resolver-rules=MAP *.${baseDomain} 127.0.0.1`,
    ],
  });
  return {
    ctx,
    async close() {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`); // kept as a test artifact (test-artifacts/ is not committed)
}

/** The page's visible text must never show an undefined, a null or a stack trace. */
export async function expectCleanText(page: Page): Promise<string> {
  const text = await page.locator("body").innerText();
  const bad = /\bundefined\b|\bnull\b|\bNaN\b|\[object Object\]|TypeError|ReferenceError|at \S+ \(.*:\d+:\d+\)/.exec(text);
  if (bad) throw new Error(`page ${page.url()} shows "${bad[0]}":\n${text.slice(0, 2000)}`);
  return text;
}
