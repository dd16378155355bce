// Setup step of the e2e tier: records, once per lockfile, every registry answer the framework fixtures' installs need,
// so test/e2e/frameworks.test.ts builds them offline against scripts/npm-mirror.mjs in `serve` mode.
// The install run here is the one the generated Dockerfile runs (same detection, same node, npm and corepack as the
// stand-in image), with --ignore-scripts: nothing from the registry runs on the host.
// Usage: bun scripts/npm-cache.ts [cache dir]   (default /var/cache/staxa-test/npm; skipped when every stamp is present)
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detect } from "../src/build/detect.ts";
import { readOverride } from "../src/build/override.ts";
import { RepoTree } from "../src/build/tree.ts";
import { COREPACK_APPS, writeApp } from "../test/support/corepack-apps.ts";

/** The fixtures test/e2e/frameworks.test.ts deploys with a dependency install, and detect-deploy.test.ts's yarn and
 * pnpm apps (test/support/corepack-apps.ts: corepack fetches the package manager itself from the registry). */
export const MIRRORED_FIXTURES = [
  "sveltekit-node",
  "sveltekit-static",
  "nuxt",
  "remix",
  "react-router",
  "astro-static",
  "astro-node",
  "nestjs",
  "angular",
  ...Object.keys(COREPACK_APPS),
];
export const NPM_CACHE_DIR = "/var/cache/staxa-test/npm";
const FIXTURES = join(import.meta.dir, "../test/fixtures/frameworks");
const LOCKS = ["package.json", "package-lock.json", "pnpm-lock.yaml", "yarn.lock"];

/** The stamp file that says `fixture`'s current manifests were recorded (a changed lockfile is recorded again). */
export function stampOf(cache: string, fixture: string): string {
  const hash = new Bun.CryptoHasher("sha256");
  for (const f of LOCKS) {
    const text = manifest(fixture, f);
    if (text !== undefined) hash.update(`${f}\0${text}\0`);
  }
  return join(cache, "stamps", `${fixture}.${hash.digest("hex").slice(0, 16)}`);
}

/** One manifest of a fixture or corepack app as the build sees it (an app's own files over its base fixture's). */
function manifest(name: string, file: string): string | undefined {
  const app = COREPACK_APPS[name];
  if (app && file in app.files) return app.files[file];
  const base = app ? app.fixture : name;
  const p = base && join(FIXTURES, base, "repo", file);
  return p && existsSync(p) ? readFileSync(p, "utf8") : undefined;
}

async function record(cache: string, fixture: string, registry: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), `staxa-npm-cache-${fixture}-`));
  try {
    const repo = join(work, "repo");
    const app = COREPACK_APPS[fixture];
    if (app) writeApp(repo, app);
    else cpSync(join(FIXTURES, fixture, "repo"), repo, { recursive: true });
    const d = detect(new RepoTree(repo), readOverride(new RepoTree(repo)));
    if (!("pm" in d) || !Array.isArray(d.install)) throw new Error(`${fixture}: not a package-manager app (${d.kind})`);
    // Yarn berry has no --ignore-scripts flag: its setting is YARN_ENABLE_SCRIPTS (below).
    const berry = (d.install as string[]).includes("--immutable");
    const argv = [...(d.install as string[]), ...(berry ? [] : ["--ignore-scripts"])];
    console.error(`npm-cache: ${fixture}: ${argv.join(" ")}`);
    // Fresh caches (npm, pnpm store, corepack's package managers): everything is fetched, so everything is recorded.
    const env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: work,
      npm_config_registry: registry,
      npm_config_userconfig: "/dev/null",
      npm_config_cache: join(work, "npm"),
      npm_config_store_dir: join(work, "pnpm-store"),
      COREPACK_NPM_REGISTRY: registry.replace(/\/$/, ""),
      COREPACK_HOME: join(work, "corepack"),
      COREPACK_INTEGRITY_KEYS: "0",
      COREPACK_ENABLE_DOWNLOAD_PROMPT: "0",
      ...(d.pm.env ?? {}),
      YARN_ENABLE_SCRIPTS: "false",
    };
    const proc = Bun.spawn(argv, { cwd: repo, env, stdout: "pipe", stderr: "pipe" });
    const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    if (code !== 0) throw new Error(`${fixture}: ${argv.join(" ")} exited ${code}\n${(out + err).slice(-3000)}`);
    mkdirSync(join(cache, "stamps"), { recursive: true });
    writeFileSync(stampOf(cache, fixture), new Date().toISOString() + "\n");
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Records every fixture without a current stamp through a recording mirror on loopback. */
export async function fillNpmCache(cache = NPM_CACHE_DIR): Promise<void> {
  const todo = MIRRORED_FIXTURES.filter((f) => !existsSync(stampOf(cache, f)));
  if (todo.length === 0) return;
  const port = 20000 + Math.floor(Math.random() * 9000);
  const mirror = Bun.spawn(["node", join(import.meta.dir, "npm-mirror.mjs"), "record", cache, String(port)], {
    stdout: "inherit",
    stderr: "pipe",
  });
  try {
    await waitListening(mirror.stderr, port);
    for (const f of todo) await record(cache, f, `http://127.0.0.1:${port}/`);
  } finally {
    mirror.kill();
    await mirror.exited;
  }
}

// The mirror prints one line once it listens; what it prints later (failed upstream fetches) goes on to our stderr.
async function waitListening(stderr: ReadableStream<Uint8Array>, port: number): Promise<void> {
  const reader = stderr.getReader();
  let text = "";
  while (!text.includes(`on ${port}`)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`npm-mirror exited before listening: ${text}`);
    text += new TextDecoder().decode(value);
  }
  void (async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read()) process.stderr.write(r.value);
  })();
}

if (import.meta.main) {
  await fillNpmCache(process.argv[2] ?? NPM_CACHE_DIR);
  console.error("npm-cache: ready");
}
