// Prints (second build time) / (first build time) for an unchanged repo, per detected app, and the final image sizes.
// Run: bun bench/build-cache/run.ts   (target: ratio <= 0.3). Each build starts from a fresh clone, as a deploy does.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGit } from "../../src/build/git.ts";
import { planBuild } from "../../src/build/plan.ts";
import { loadConfig } from "../../src/config.ts";
import { createDockerRuntime } from "../../src/runtime/docker.ts";
import { APPS, IMAGES, PREFIX, dockerBuild, ensureImages, imageSize, makeRepo, run } from "./apps.ts";

const scratch = mkdtempSync(join(tmpdir(), `${PREFIX}-bench-`));
const config = loadConfig({ STAXA_DATA_DIR: scratch, STAXA_ALLOW_FILE_REPOS: "1" });
const git = createGit(config);
const runtime = createDockerRuntime(config);
type Builder = "docker-cli" | "runtime";

// The pipeline's path: clone, plan, build (through the Runtime, as a deploy does, or the docker CLI).
async function cloneAndBuild(builder: Builder, url: string, dir: string, tag: string): Promise<number> {
  const t0 = performance.now();
  await git.clone({ repoUrl: url, branch: "main", dir, timeoutMs: 60_000, onLog: () => {} });
  const plan = await planBuild(dir, { images: IMAGES });
  if (builder === "docker-cli") await dockerBuild(plan.contextDir, plan.dockerfile, tag);
  else
    await runtime.buildImage({
      contextDir: plan.contextDir,
      dockerfile: plan.dockerfile,
      tag,
      labels: {},
      memoryBytes: 0,
      cpus: 0,
      timeoutMs: 300_000,
      onLog: () => {},
    });
  return performance.now() - t0;
}

// A nonce in every manifest makes the first build miss the cache left by earlier runs.
function withNonce(files: Record<string, string>, nonce: string): Record<string, string> {
  const out: Record<string, string> = { ...files, "nonce.txt": nonce };
  if (out["package.json"]) out["package.json"] = JSON.stringify({ ...JSON.parse(out["package.json"]), description: nonce });
  return out;
}

await ensureImages();
const rows: string[] = [];
let worst = 0;
try {
  const cases = (["runtime", "docker-cli"] as const).flatMap((builder) =>
    Object.entries(APPS).map(([name, app]) => ({ builder, name, app })),
  );
  for (const { builder, name, app } of cases) {
    const url = await makeRepo(withNonce(app.files, `${builder}-${Date.now()}-${Math.random()}`));
    const tag = `${PREFIX}-bench-${process.pid}-${name}`;
    const first = await cloneAndBuild(builder, url, join(scratch, `${builder}-${name}-1`), tag);
    const second = await cloneAndBuild(builder, url, join(scratch, `${builder}-${name}-2`), tag);
    const ratio = second / first;
    worst = Math.max(worst, ratio);
    rows.push(
      `${builder.padEnd(10)} ${name.padEnd(7)} first ${first.toFixed(0).padStart(6)} ms  second ${second.toFixed(0).padStart(6)} ms  ratio ${ratio.toFixed(3)}  image ${((await imageSize(tag)) / 1e6).toFixed(1)} MB`,
    );
    await run(["docker", "rmi", "-f", tag]).catch(() => undefined);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
console.log(rows.join("\n"));
console.log(`build-cache ratio (worst app): ${worst.toFixed(3)} (target <= 0.3) ${worst <= 0.3 ? "OK" : "OVER TARGET"}`);
