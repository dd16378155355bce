// Golden tests: every fixture tree -> the plan -> the exact Dockerfile. UPDATE_GOLDEN=1 rewrites the expected files.
import { describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { baseImagesFrom, planBuild } from "../../../src/build/plan.ts";
import { loadConfig } from "../../../src/config.ts";

const FIXTURES = join(import.meta.dir, "../../fixtures/frameworks");
const images = baseImagesFrom(loadConfig({ STAXA_DATA_DIR: "/tmp/staxa-unit" }));
const update = process.env.UPDATE_GOLDEN === "1";

describe("framework detection goldens", () => {
  const names = readdirSync(FIXTURES).sort();
  test("every framework of issues 4 and 22 has a fixture", () => {
    const issue22 = [
      "sveltekit-node",
      "sveltekit-static",
      "nuxt",
      "remix",
      "react-router",
      "astro-static",
      "astro-node",
      "nestjs",
      "angular",
      "python-django-gunicorn",
      "python-flask-gunicorn",
      "rails",
      "laravel",
      "node-yarn-berry",
    ];
    for (const n of issue22) expect(names).toContain(n);
    for (const n of [
      "nextjs-standalone",
      "nextjs",
      "node-npm",
      "vite",
      "create-react-app",
      "static",
      "bun",
      "python-fastapi",
      "python-flask",
      "python-django",
      "go",
      "procfile",
      "dockerfile",
    ]) {
      expect(names).toContain(n);
    }
  });
  for (const name of names) {
    test(name, async () => {
      const dir = join(FIXTURES, name);
      const work = mkdtempSync(join(tmpdir(), "staxa-golden-"));
      try {
        cpSync(join(dir, "repo"), work, { recursive: true });
        const errorFile = join(dir, "expected.error");
        const outcome = await planBuild(work, { images }).then(
          (plan) => ({ plan }),
          (e: Error) => ({ error: e.message }),
        );
        if ("error" in outcome || existsSync(errorFile)) {
          // A refused tree: the message names the framework and the staxa.json way out, and nothing is written.
          if (update && "error" in outcome) writeFileSync(errorFile, outcome.error + "\n");
          expect("error" in outcome ? outcome.error : "built").toBe(readFileSync(errorFile, "utf8").trimEnd());
          expect((outcome as { error: string }).error).toContain("staxa.json");
          expect(existsSync(join(work, "Dockerfile.staxa"))).toBe(false);
          return;
        }
        const { plan } = outcome;
        const summary = { ...plan, contextDir: relative(work, plan.contextDir) || ".", generatedDockerfile: undefined };
        const got = { plan: JSON.parse(JSON.stringify(summary)), dockerfile: plan.generatedDockerfile ?? null };
        if (update) {
          writeFileSync(join(dir, "expected.json"), JSON.stringify(got.plan, null, 2) + "\n");
          if (got.dockerfile !== null) writeFileSync(join(dir, "expected.Dockerfile"), got.dockerfile);
        }
        expect(got.plan).toEqual(JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")));
        const expectedFile = join(dir, "expected.Dockerfile");
        expect(got.dockerfile).toEqual(existsSync(expectedFile) ? readFileSync(expectedFile, "utf8") : null);
        if (plan.generatedDockerfile !== undefined) {
          // The plan wrote what it returned, where Docker will read it.
          expect(readFileSync(join(plan.contextDir, plan.dockerfile), "utf8")).toBe(plan.generatedDockerfile);
          expect(readFileSync(join(plan.contextDir, ".dockerignore"), "utf8")).toContain(".git\n");
          for (const line of plan.generatedDockerfile.split("\n")) {
            if (/^(CMD|RUN) /.test(line)) expect(() => JSON.parse(line.slice(4))).not.toThrow();
          }
          expect(plan.generatedDockerfile).toMatch(/\nUSER 10001:10001\n/);
          expect(plan.generatedDockerfile).toContain(`\nENV PORT=${plan.port}`);
          expect(plan.generatedDockerfile).toContain(`\nEXPOSE ${plan.port}\n`);
        }
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
  }
});
