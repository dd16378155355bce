// STAXA_NPM_REGISTRY: generated Node and Bun Dockerfiles declare the registry build args in the stage that installs,
// the plan carries their values, and nothing else changes (no setting: byte for byte the goldens).
import { describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { baseImagesFrom, planBuild } from "../../../src/build/plan.ts";
import { ConfigError, loadConfig } from "../../../src/config.ts";

const FIXTURES = join(import.meta.dir, "../../fixtures/frameworks");
const images = baseImagesFrom(loadConfig({ STAXA_DATA_DIR: "/tmp/staxa-unit" }));
const MIRROR = "http://10.0.0.5:4873";

async function plan(fixture: string, npmRegistry?: string) {
  const work = mkdtempSync(join(tmpdir(), "staxa-registry-"));
  try {
    cpSync(join(FIXTURES, fixture, "repo"), work, { recursive: true });
    return await planBuild(work, { images, npmRegistry });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const golden = (fixture: string) => readFileSync(join(FIXTURES, fixture, "expected.Dockerfile"), "utf8");
const NPM_ARGS = { npm_config_registry: `${MIRROR}/`, COREPACK_NPM_REGISTRY: MIRROR };

describe("generated Dockerfiles with STAXA_NPM_REGISTRY", () => {
  test.each([
    ["node-npm", NPM_ARGS],
    ["node-pnpm", NPM_ARGS],
    ["sveltekit-static", NPM_ARGS],
    ["nextjs-standalone", NPM_ARGS],
    ["procfile", NPM_ARGS],
    ["bun", { BUN_CONFIG_REGISTRY: `${MIRROR}/` }],
  ])("%s declares its registry args after WORKDIR of the installing stage, and only there", async (fixture, args) => {
    const p = await plan(fixture, `${MIRROR}/`);
    expect(p.buildArgs).toEqual(args);
    const declared = Object.keys(args)
      .map((a) => `ARG ${a}\n`)
      .join("");
    // Exactly the golden with the ARG lines after the first WORKDIR: later stages (caddy, the standalone runtime) lack them.
    expect(p.generatedDockerfile).toBe(golden(fixture).replace("WORKDIR /app\n", `WORKDIR /app\n${declared}`));
  });

  test.each(["python-flask-gunicorn", "go", "static"])(
    "%s gets no registry args: its installs are not npm's",
    async (fixture) => {
      const p = await plan(fixture, MIRROR);
      expect(p.buildArgs).toBeUndefined();
      expect(p.generatedDockerfile).toBe(golden(fixture));
    },
  );

  test("a repository's own Dockerfile gets no build args", async () => {
    const p = await plan("dockerfile", MIRROR);
    expect(p.framework).toBe("dockerfile");
    expect(p.buildArgs).toBeUndefined();
  });

  test("without the setting a Node plan is the golden and passes no build args", async () => {
    const p = await plan("node-npm");
    expect(p.buildArgs).toBeUndefined();
    expect(p.generatedDockerfile).toBe(golden("node-npm"));
  });
});

describe("the STAXA_NPM_REGISTRY setting", () => {
  const load = (v: string) => loadConfig({ STAXA_DATA_DIR: "/tmp/staxa-unit", STAXA_NPM_REGISTRY: v }).npmRegistry;
  test("empty by default; an http(s) URL without its trailing slash", () => {
    expect(loadConfig({ STAXA_DATA_DIR: "/tmp/staxa-unit" }).npmRegistry).toBe("");
    expect(load("https://npm.example.com/repository/npm/")).toBe("https://npm.example.com/repository/npm");
  });
  test("a URL carrying credentials is refused, naming the variable (build args stay in the image history)", () => {
    expect(() => load("https://user:secret@npm.example.com/")).toThrow(ConfigError);
    expect(() => load("https://user:secret@npm.example.com/")).toThrow("STAXA_NPM_REGISTRY must not carry credentials");
  });
  test("anything but http(s) is refused", () => {
    expect(() => load("ftp://npm.example.com/")).toThrow("STAXA_NPM_REGISTRY must be an http(s) URL");
  });
});
