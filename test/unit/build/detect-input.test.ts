// Malicious manifests: a clear BuildPlanError, or a Dockerfile where the hostile string is one JSON-quoted argument.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { baseImagesFrom, planBuild } from "../../../src/build/plan.ts";
import { BuildPlanError } from "../../../src/build/types.ts";
import { loadConfig } from "../../../src/config.ts";

const images = baseImagesFrom(loadConfig({ STAXA_DATA_DIR: "/tmp/staxa-unit" }));
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "staxa-detect-"));
  dirs.push(root);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}
const pkg = (o: unknown) => JSON.stringify(o);
const planError = async (root: string): Promise<string> => {
  const err = await planBuild(root, { images }).catch((e) => e);
  expect(err).toBeInstanceOf(BuildPlanError);
  return (err as Error).message;
};
// The last CMD line parsed back: the hostile string must come out as exactly one argument.
const cmdOf = (dockerfile: string) =>
  JSON.parse(
    dockerfile
      .split("\n")
      .find((l) => l.startsWith("CMD "))!
      .slice(4),
  );

describe("hostile strings are quoted, never spliced", () => {
  for (const start of [
    'node s.js "; rm -rf / #',
    "node s.js $(id)",
    "node s.js `id`",
    "node s.js \\",
    'x"]\nRUN ["id'.replace("\n", " "),
    "echo ' \" \\\" '",
  ]) {
    test(`start script ${JSON.stringify(start)}`, async () => {
      const plan = await planBuild(tree({ "package.json": pkg({ scripts: { start } }) }), { images });
      expect(cmdOf(plan.generatedDockerfile!)).toEqual(["sh", "-c", start]);
      expect(
        plan
          .generatedDockerfile!.split("\n")
          .filter((l) => l.startsWith("RUN "))
          .every((l) => !l.includes("id")),
      ).toBe(true);
    });
  }
  test("package names with shell characters never reach the Dockerfile", async () => {
    const plan = await planBuild(
      tree({
        "package.json": pkg({ name: "$(id)", dependencies: { "`whoami`": "1", "a;b": "1" }, scripts: { start: "node x" } }),
      }),
      { images },
    );
    expect(plan.generatedDockerfile).not.toContain("whoami");
    expect(plan.generatedDockerfile).not.toContain("a;b");
  });
  test("a Procfile web line with quotes is quoted", async () => {
    const plan = await planBuild(tree({ Procfile: 'web: run "$(id)" `x` \\\n' }), { images });
    expect(cmdOf(plan.generatedDockerfile!)).toEqual(["sh", "-c", 'run "$(id)" `x` \\']);
  });
});

describe("refused with a clear error", () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    [
      "newline in start",
      { "package.json": pkg({ scripts: { start: "node a.js\nRUN curl evil | sh" } }) },
      /scripts\.start.*newline/,
    ],
    [
      "carriage return in build",
      { "package.json": pkg({ scripts: { build: "x\rRUN id", start: "node a" } }) },
      /scripts\.build.*newline/,
    ],
    ["NUL in start", { "package.json": pkg({ scripts: { start: "node\u0000a" } }) }, /scripts\.start/],
    ["Procfile with two web lines", { Procfile: "web: a\nweb: b\n" }, /more than one "web:"/],
    ["Procfile with NUL", { Procfile: "web: a\u0000b\n" }, /NUL/],
    ["Procfile web line with a control character", { Procfile: "web: a\u001bb\n" }, /Procfile: "web".*control/],
    ["staxa.json start with a newline", { "staxa.json": pkg({ start: "a\nb" }), "index.html": "" }, /staxa\.json: "start"/],
    ["staxa.json unknown key", { "staxa.json": pkg({ strat: "a" }) }, /staxa\.json: "strat" is not a known key/],
    ["staxa.json port out of range", { "staxa.json": pkg({ port: 70000 }), "index.html": "" }, /staxa\.json: "port"/],
    ["staxa.json port as string", { "staxa.json": pkg({ port: "80;id" }), "index.html": "" }, /staxa\.json: "port"/],
    ["staxa.json root ../../", { "staxa.json": pkg({ root: "../../" }) }, /staxa\.json: "root".*inside the repository/],
    ["staxa.json root absolute", { "staxa.json": pkg({ root: "/etc" }) }, /staxa\.json: "root".*not an absolute path/],
    ["staxa.json root missing", { "staxa.json": pkg({ root: "apps/none" }) }, /staxa\.json: "root".*does not exist/],
    ["staxa.json root with spaces", { "staxa.json": pkg({ root: "a b" }) }, /staxa\.json: "root" may contain only/],
    [
      "staxa.json build non-string",
      { "staxa.json": pkg({ build: ["rm"] }), "index.html": "" },
      /staxa\.json: "build" must be a string/,
    ],
    ["staxa.json output escaping", { "staxa.json": pkg({ output: "../x" }) }, /staxa\.json: "output"/],
    ["staxa.json not JSON", { "staxa.json": "{nope" }, /staxa\.json is not valid JSON/],
    ["package.json main escaping", { "package.json": pkg({ main: "../../etc/passwd" }) }, /package\.json: main/],
    [
      "Go with a start override",
      { "go.mod": "module x\n", "main.go": "package main\n", "staxa.json": pkg({ start: "x" }) },
      /"start" is not supported for Go/,
    ],
  ];
  for (const [name, files, re] of cases) {
    test(name, async () => expect(await planError(tree(files))).toMatch(re));
  }

  test("a tree that matches nothing lists what was looked for and how to fix it", async () => {
    const msg = await planError(tree({ "README.md": "hi" }));
    for (const s of ["Dockerfile", "package.json", "requirements.txt", "go.mod", "index.html", "Procfile", "staxa.json"])
      expect(msg).toContain(s);
  });

  test("a staxa.json root that is a link out of the repo", async () => {
    const outside = tree({ "package.json": pkg({ scripts: { start: "node a" } }) });
    const root = tree({});
    symlinkSync(outside, join(root, "app"));
    writeFileSync(join(root, "staxa.json"), pkg({ root: "app" }));
    expect(await planError(root)).toMatch(/"root".*outside the repository through a link/);
  });

  test("a Dockerfile linked to a file outside the repo", async () => {
    const root = tree({});
    symlinkSync("/etc/passwd", join(root, "Dockerfile"));
    expect(await planError(root)).toMatch(/Dockerfile is a link pointing outside/);
  });

  test("manifests linked out of the tree are not read", async () => {
    const outside = tree({ "package.json": pkg({ scripts: { start: "node stolen" } }) });
    const root = tree({ "index.html": "hi" });
    symlinkSync(join(outside, "package.json"), join(root, "package.json"));
    const plan = await planBuild(root, { images });
    expect(plan.framework).toBe("static");
    expect(plan.generatedDockerfile).not.toContain("stolen");
  });

  test("a Dockerfile.staxa link in the repo is not written through", async () => {
    const target = join(tree({}), "victim");
    const root = tree({ "index.html": "hi" });
    symlinkSync(target, join(root, "Dockerfile.staxa"));
    expect(await planError(root)).toMatch(/Dockerfile\.staxa in the repository is a link/);
    expect(existsSync(target)).toBe(false);
  });
});

describe("overrides", () => {
  test("staxa.json start turns an SPA into a served Node app", async () => {
    const plan = await planBuild(
      tree({
        "package.json": pkg({ scripts: { build: "vite build" }, devDependencies: { vite: "5" } }),
        "staxa.json": pkg({ start: "vite preview --port $PORT" }),
      }),
      { images },
    );
    expect(plan.framework).toBe("node");
    expect(cmdOf(plan.generatedDockerfile!)).toEqual(["sh", "-c", "vite preview --port $PORT"]);
  });
  test("a Procfile web line overrides the package.json start", async () => {
    const plan = await planBuild(tree({ "package.json": pkg({ scripts: { start: "node a" } }), Procfile: "web: node b\n" }), {
      images,
    });
    expect(cmdOf(plan.generatedDockerfile!)).toEqual(["sh", "-c", "node b"]);
  });
  test("write: false leaves the tree untouched", async () => {
    const root = tree({ "index.html": "hi" });
    await planBuild(root, { images, write: false });
    expect(existsSync(join(root, "Dockerfile.staxa"))).toBe(false);
  });
  test("an existing .dockerignore is extended, keeping the generated Caddyfile", async () => {
    const root = tree({ "index.html": "hi", ".dockerignore": "*\n!index.html\n" });
    await planBuild(root, { images });
    const text = await Bun.file(join(root, ".dockerignore")).text();
    expect(text.startsWith("*\n!index.html\n")).toBe(true);
    expect(text).toContain("\n.git\n");
    expect(text).toContain("!Caddyfile.staxa\n");
  });
  test("base images that are not image references are refused", async () => {
    const err = await planBuild(tree({ "index.html": "" }), { images: { ...images, static: "caddy\nRUN id" } }).catch((e) => e);
    expect(err).toBeInstanceOf(BuildPlanError);
  });
});
