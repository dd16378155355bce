// Prints (second build time) / (first build time) for an unchanged repo, per detected app, and the final image sizes.
// Run: bun bench/build-cache/run.ts   (target: ratio <= 0.3). Each build starts from a fresh clone, as a deploy does.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGit } from "../../src/build/git.ts";
import { planBuild } from "../../src/build/plan.ts";
import { loadConfig } from "../../src/config.ts";
import { APPS, IMAGES, PREFIX, dockerBuild, ensureImages, imageSize, makeRepo, run } from "./apps.ts";

const scratch = mkdtempSync(join(tmpdir(), `${PREFIX}-bench-`));
const git = createGit(loadConfig({ STAXA_DATA_DIR: scratch, STAXA_ALLOW_FILE_REPOS: "1" }));

async function cloneAndBuild(url: string, dir: string, tag: string, noCache: boolean): Promise<number> {
  const t0 = performance.now();
  await git.clone({ repoUrl: url, branch: "main", dir, timeoutMs: 60_000, onLog: () => {} });
  const plan = await planBuild(dir, { images: IMAGES });
  await dockerBuild(plan.contextDir, plan.dockerfile, tag, noCache);
  return performance.now() - t0;
}

await ensureImages();
const rows: string[] = [];
let worst = 0;
try {
  for (const [name, app] of Object.entries(APPS)) {
    const url = await makeRepo(app.files);
    const tag = `${PREFIX}-bench-${process.pid}-${name}`;
    const first = await cloneAndBuild(url, join(scratch, `${name}-1`), tag, true);
    const second = await cloneAndBuild(url, join(scratch, `${name}-2`), tag, false);
    const ratio = second / first;
    worst = Math.max(worst, ratio);
    rows.push(`${name.padEnd(8)} first ${first.toFixed(0).padStart(6)} ms  second ${second.toFixed(0).padStart(6)} ms  ratio ${ratio.toFixed(3)}  image ${((await imageSize(tag)) / 1e6).toFixed(1)} MB`);
    await run(["docker", "rmi", "-f", tag]).catch(() => undefined);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
console.log(rows.join("\n"));
console.log(`build-cache ratio (worst app): ${worst.toFixed(3)} (target <= 0.3) ${worst <= 0.3 ? "OK" : "OVER TARGET"}`);
