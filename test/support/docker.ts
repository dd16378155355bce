// e2e helpers for the real Docker engine: the locally built test images, a runtime, and name prefixes.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { createDockerRuntime } from "../../src/runtime/docker.ts";
import type { Runtime } from "../../src/runtime/types.ts";

export const BUSYBOX_IMAGE = "staxa-test/busybox:latest";
export const NODE_IMAGE = "staxa-test/node:20";

const SCRIPT = join(import.meta.dir, "../../scripts/test-images.sh");
let ready: Promise<void> | undefined;

/**
 * Builds the test images once per test process (the script itself returns at once when they exist).
 * Throws when Docker is unreachable or the build fails: an e2e test must fail, never skip.
 */
export function ensureTestImages(): Promise<void> {
  ready ??= (async () => {
    const proc = Bun.spawn(["bash", SCRIPT], { stdout: "pipe", stderr: "pipe" });
    const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    if (code !== 0) throw new Error(`scripts/test-images.sh failed (${code}): ${(out + err).slice(-2000)}`);
  })();
  return ready;
}

/** A runtime on the machine's Docker socket (STAXA_DOCKER_SOCKET when set). */
export function dockerRuntime(): Runtime {
  return createDockerRuntime(
    loadConfig({
      STAXA_DATA_DIR: "/tmp/staxa-e2e",
      STAXA_DOCKER_SOCKET: process.env.STAXA_DOCKER_SOCKET ?? "/var/run/docker.sock",
    }),
  );
}

/** A unique name under `prefix` so parallel runs and helpers never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** Runs `docker` with argv (tests only: inspecting what the runtime did, cleaning up). */
export async function dockerCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn(["docker", ...args], { stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, out, err };
}

/** Removes every container, then network and volume, whose name starts with `prefix` (test cleanup). */
export async function removeByPrefix(prefix: string): Promise<void> {
  const ids = (await dockerCli(["ps", "-aq", "--filter", `name=^/${prefix}`])).out.split("\n").filter(Boolean);
  if (ids.length) await dockerCli(["rm", "-f", ...ids]);
  const nets = (await dockerCli(["network", "ls", "-q", "--filter", `name=^${prefix}`])).out.split("\n").filter(Boolean);
  if (nets.length) await dockerCli(["network", "rm", ...nets]);
  const vols = (await dockerCli(["volume", "ls", "-q", "--filter", `name=^${prefix}`])).out.split("\n").filter(Boolean);
  if (vols.length) await dockerCli(["volume", "rm", ...vols]);
}

/** Tears down what an e2e file made: Docker objects and built images named with `prefix`, its Caddy, its dirs. */
export async function teardownE2e(prefix: string, caddy: { stop(): Promise<void> } | undefined, dirs: string[]): Promise<void> {
  await removeByPrefix(`staxa-${prefix}`);
  const imgs = (await dockerCli(["images", "-q", "--filter", `reference=staxa/${prefix}*`])).out.split("\n").filter(Boolean);
  if (imgs.length) await dockerCli(["rmi", "-f", ...imgs]);
  await caddy?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
