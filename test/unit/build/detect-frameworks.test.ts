// Detection rules of issue 22 that the goldens do not show: overrides past a refusal, lockfile-pinned pnpm, the SPA fallback page.
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { detect } from "../../../src/build/detect.ts";
import { readOverride } from "../../../src/build/override.ts";
import { RepoTree } from "../../../src/build/tree.ts";
import { caddyfile } from "../../../src/build/caddyfile.ts";

function plan(files: Record<string, string | object>) {
  const dir = mkdtempSync(join(tmpdir(), "staxa-detect-fw-"));
  try {
    for (const [p, v] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), typeof v === "string" ? v : JSON.stringify(v));
    }
    const tree = new RepoTree(dir);
    return detect(tree, readOverride(tree));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const svelte = (adapter: string) => ({
  "package.json": {
    scripts: { build: "vite build" },
    devDependencies: { "@sveltejs/kit": "^2", [`@sveltejs/adapter-${adapter}`]: "^1", vite: "^6" },
  },
  "svelte.config.js": `import adapter from '@sveltejs/adapter-${adapter}';\nexport default { kit: { adapter: adapter({ out: 'server-out' }) } };\n`,
});

describe("framework detection (issue 22)", () => {
  test("SvelteKit with adapter-node is a node server on its out dir, not a Vite SPA", () => {
    expect(plan(svelte("node"))).toMatchObject({ kind: "node", framework: "sveltekit", start: ["node", "server-out"] });
  });
  test("a refused framework builds when staxa.json says how to start it", () => {
    const refused = () => plan(svelte("vercel"));
    expect(refused).toThrow(/SvelteKit app detected .*adapter-vercel.*staxa\.json/);
    expect(plan({ ...svelte("vercel"), "staxa.json": { start: "node server.js", port: 5000 } })).toMatchObject({
      kind: "node",
      framework: "sveltekit",
      port: 5000,
      start: ["sh", "-c", "node server.js"],
    });
  });
  test("Astro in middleware mode and with a platform adapter are refused by name", () => {
    const pkg = { scripts: { build: "astro build" }, dependencies: { astro: "^5", "@astrojs/node": "^9" } };
    expect(() =>
      plan({
        "package.json": pkg,
        "astro.config.mjs": "import node from '@astrojs/node';\nexport default { adapter: node({ mode: 'middleware' }) };",
      }),
    ).toThrow(/Astro app detected .*middleware/);
    expect(() =>
      plan({
        "package.json": pkg,
        "astro.config.mjs": "import netlify from '@astrojs/netlify';\nexport default { output: 'server', adapter: netlify() };",
      }),
    ).toThrow(/Astro app detected .*netlify/);
  });
  test("Rails is refused even with a package.json and a Procfile; a Gemfile beside a Node app is not", () => {
    expect(() =>
      plan({
        Gemfile: 'gem "rails"\n',
        Procfile: "web: bundle exec puma\n",
        "package.json": { scripts: { build: "esbuild x" } },
      }),
    ).toThrow(/^Rails app detected/);
    expect(() => plan({ Gemfile: 'gem "sinatra"\n', Procfile: "web: ruby app.rb\n" })).toThrow(
      /^Ruby app detected .*staxa\.json/,
    );
    expect(plan({ Gemfile: 'gem "fastlane"\n', "package.json": { scripts: { start: "node s.js" } } })).toMatchObject({
      kind: "node",
    });
  });
  test("pnpm without a declared version runs the major that wrote the lockfile", () => {
    const app = (lock: string) => plan({ "package.json": { scripts: { start: "node s.js" } }, "pnpm-lock.yaml": lock });
    expect(app("lockfileVersion: 5.4\n")).toMatchObject({ install: ["corepack", "pnpm@7", "install", "--frozen-lockfile"] });
    expect(app("lockfileVersion: '6.0'\n")).toMatchObject({ install: ["corepack", "pnpm@8", "install", "--frozen-lockfile"] });
    const declared = plan({
      "package.json": { packageManager: "pnpm@10.2.0", scripts: { start: "node s.js" } },
      "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
    });
    expect(declared).toMatchObject({ install: ["corepack", "pnpm", "install", "--frozen-lockfile"] });
  });
  test("yarn berry keeps a linker the repository chose, and copies .yarn", () => {
    const d = plan({
      "package.json": { packageManager: "yarn@4.5.0", scripts: { start: "node s.js" } },
      "yarn.lock": "",
      ".yarnrc.yml": "nodeLinker: pnp\nyarnPath: .yarn/releases/yarn-4.5.0.cjs\n",
      ".yarn/releases/yarn-4.5.0.cjs": "",
    });
    expect(d).toMatchObject({ pm: { env: undefined, dirs: [".yarn"] } });
  });
  test("the static server falls back to the framework's page, or answers 404 without one", () => {
    expect(caddyfile("200.html")).toContain("\ttry_files {path} {path}.html {path}/index.html /200.html\n");
    expect(caddyfile(null)).toContain("\ttry_files {path} {path}.html {path}/index.html\n");
  });
});
