// Repos with no Dockerfile, cloned with real git, planned, built by the real Docker engine, run, and answering.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGit } from "../../src/build/git.ts";
import { planBuild } from "../../src/build/plan.ts";
import { loadConfig } from "../../src/config.ts";
import { APPS, IMAGES, PREFIX, dockerBuild, ensureImages, imageSize, makeRepo, run } from "../../bench/build-cache/apps.ts";

const tag = `${PREFIX}-e2e-${process.pid}`;
const scratch = mkdtempSync(join(tmpdir(), `${PREFIX}-e2e-`));
const git = createGit(loadConfig({ STAXA_DATA_DIR: scratch, STAXA_ALLOW_FILE_REPOS: "1" }));
const containers: string[] = [];
const images: string[] = [];

beforeAll(ensureImages, 300_000);
afterAll(async () => {
  for (const c of containers) await run(["docker", "rm", "-f", c]).catch(() => undefined);
  for (const i of images) await run(["docker", "rmi", "-f", i]).catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
});

async function waitFor(url: string): Promise<void> {
  const until = Date.now() + 20_000;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch (e) {
      if (Date.now() > until) throw e;
      await Bun.sleep(200);
    }
  }
}

describe("detected apps build and answer", () => {
  for (const [name, app] of Object.entries(APPS)) {
    test(
      name,
      async () => {
        const dir = join(scratch, name);
        await git.clone({ repoUrl: await makeRepo(app.files), branch: "main", dir, timeoutMs: 30_000, onLog: () => {} });
        const plan = await planBuild(dir, { images: IMAGES });
        expect(plan.dockerfile).toBe("Dockerfile.staxa");
        const image = `${tag}-${name}`;
        images.push(image);
        await dockerBuild(plan.contextDir, plan.dockerfile, image);
        expect(await run(["docker", "image", "inspect", "-f", "{{.Config.User}}", image])).toBe("10001:10001");

        const container = `${tag}-${name}`;
        containers.push(container);
        await run([
          "docker",
          "run",
          "-d",
          "--name",
          container,
          "--cap-drop",
          "ALL",
          "--security-opt",
          "no-new-privileges",
          "-p",
          `127.0.0.1::${plan.port}`,
          image,
        ]);
        const hostPort = (await run(["docker", "port", container, String(plan.port)])).split("\n")[0]!.split(":").pop();
        const base = `http://127.0.0.1:${hostPort}`;
        await waitFor(base);
        for (const [path, status, body] of app.probe) {
          const res = await fetch(base + path);
          expect(`${path} ${res.status}`).toBe(`${path} ${status}`);
          if (body) expect(await res.text()).toContain(body);
        }
        console.log(`${name}: framework=${plan.framework} image=${((await imageSize(image)) / 1e6).toFixed(1)} MB`);
      },
      180_000,
    );
  }
});
