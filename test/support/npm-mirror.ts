// e2e support: the npm registry stand-in (scripts/npm-mirror.mjs `serve`) in a container on docker0, where build steps
// reach it, answering only from what scripts/npm-cache.ts recorded at setup time. Nothing here talks to a registry.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { MIRRORED_FIXTURES, NPM_CACHE_DIR, stampOf } from "../../scripts/npm-cache.ts";
import { dockerCli, NODE_IMAGE } from "./docker.ts";

const SCRIPT = join(import.meta.dir, "../../scripts/npm-mirror.mjs");
const PORT = 4873;

export interface NpmMirror {
  /** The registry URL for STAXA_NPM_REGISTRY. */
  url: string;
  /** Request paths the mirror had no recording for (a build that needed the real registry). */
  misses(): Promise<string[]>;
  stop(): Promise<void>;
}

/** Starts the mirror container `name`; throws (never skips) when setup did not record the fixtures. */
export async function startNpmMirror(name: string, cache = NPM_CACHE_DIR): Promise<NpmMirror> {
  const missing = MIRRORED_FIXTURES.filter((f) => !existsSync(stampOf(cache, f)));
  if (missing.length)
    throw new Error(`npm cache not recorded for ${missing.join(", ")}: run \`bun scripts/npm-cache.ts\` (scripts/test.sh does)`);
  const run = await dockerCli([
    ...["run", "-d", "--name", name, "--user", "1000:1000", "--cap-drop", "ALL", "--read-only"],
    ...["-v", `${cache}:/cache:ro`, "-v", `${SCRIPT}:/mirror/npm-mirror.mjs:ro`],
    ...[NODE_IMAGE, "node", "/mirror/npm-mirror.mjs", "serve", "/cache", String(PORT)],
  ]);
  if (run.code !== 0) throw new Error(`npm mirror did not start: ${run.err}`);
  const stop = async () => void (await dockerCli(["rm", "-f", name]));
  const ip = (await dockerCli(["inspect", "-f", "{{.NetworkSettings.IPAddress}}", name])).out.trim();
  const url = `http://${ip}:${PORT}`;
  const misses = async () => (await (await fetch(`${url}/-/staxa/misses`)).json()) as string[];
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await misses();
      return { url, misses, stop };
    } catch (e) {
      if (Date.now() > deadline) {
        const logs = await dockerCli(["logs", name]);
        await stop();
        throw new Error(`npm mirror at ${url} never answered: ${e}\n${logs.out}${logs.err}`);
      }
      await Bun.sleep(200);
    }
  }
}
