// Templates deploy from the source bundled in the binary: the catalog URL names the template, the pipeline clones
// a local repo made from the bundled files (no network), and only the appliance's own repos pass git's file:// guard.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import catalog from "../../../templates/catalog.json" with { type: "json" };
import { catalogTemplateOf, templateCloneUrl } from "../../../src/core/template-source.ts";
import { templateFiles } from "../../../src/templates-bundle.ts";
import { ownTemplateRepo, templateRepo, templateReposDir } from "../../../src/build/template-repo.ts";
import { createGit } from "../../../src/build/git.ts";
import { loadConfig } from "../../../src/config.ts";
import { fakeApp } from "../../support/fakes.ts";

const dirs: string[] = [];
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const STATIC_URL = catalog.find((t) => t.id === "tpl_static")!.repo_url as string;

describe("the catalog URL names a bundled template", () => {
  test.each([STATIC_URL, `${STATIC_URL}.git`, `${STATIC_URL}/`, STATIC_URL.toUpperCase()])("%s → tpl_static", (url) => {
    expect(catalogTemplateOf(url)).toEqual({ id: "tpl_static", sourceDir: "templates/src/static" });
  });

  test.each(["https://github.com/staxa/template-static-fork", "https://github.com/acme/webapp", "file:///tmp/x", ""])(
    "%p is not a template",
    (url) => {
      expect(catalogTemplateOf(url)).toBeUndefined();
    },
  );

  test("every code template of the catalog has bundled files", () => {
    for (const t of catalog.filter((t) => "source_dir" in t && t.source_dir)) {
      const files = templateFiles((t as { source_dir: string }).source_dir);
      expect(files?.size ?? 0).toBeGreaterThan(0);
      for (const p of files!.keys()) expect(p).not.toMatch(/(^|\/)(node_modules|\.git|\.next|dist)(\/|$)/);
    }
    expect(text(templateFiles("templates/src/static")!.get("index.html"))).toContain("Hello from the Staxa Static Site template");
  });
});

describe("templateRepo", () => {
  test("one deterministic commit on main; made once; other files make another repo", async () => {
    const data = tmp("staxa-tplrepo-");
    const files = new Map([
      ["index.html", new TextEncoder().encode("<h1>hi</h1>")],
      ["sub/a.txt", new TextEncoder().encode("a")],
    ]);
    const dir = await templateRepo(data, "tpl_x", files);
    expect(dir.startsWith(templateReposDir(data))).toBe(true);
    expect(await templateRepo(data, "tpl_x", files)).toBe(dir);
    const other = await templateRepo(data, "tpl_x", new Map([["index.html", new TextEncoder().encode("<h1>changed</h1>")]]));
    expect(other).not.toBe(dir);
    const head = (d: string) => Bun.spawnSync(["git", "-C", d, "rev-parse", "main"]).stdout.toString().trim();
    const again = await templateRepo(tmp("staxa-tplrepo-"), "tpl_x", files);
    expect(head(again)).toBe(head(dir)); // same files, same commit id, on any server
    expect(Bun.spawnSync(["git", "-C", dir, "ls-files"]).stdout.toString().split("\n").filter(Boolean)).toEqual([
      "index.html",
      "sub/a.txt",
    ]);
  });

  test("refuses a file that would land outside its directory", async () => {
    await expect(templateRepo(tmp("staxa-tplrepo-"), "tpl_x", new Map([["../escape", new Uint8Array(1)]]))).rejects.toThrow(
      /outside/,
    );
  });
});

describe("git's file:// guard", () => {
  test.each([
    ["file:///data/templates/tpl_static-abc", "/data/templates/tpl_static-abc"],
    ["file:///data/templates/../staxa.db", undefined],
    ["file:///data/templates", undefined],
    ["file:///data/other/repo", undefined],
    ["https://github.com/staxa/template-static", undefined],
  ])("ownTemplateRepo(%p) = %p", (url, want) => expect(ownTemplateRepo("/data", url)).toBe(want));

  test("with file:// repos off, the real Git clones the appliance's template repo and refuses any other file:// repo", async () => {
    const data = tmp("staxa-tplgit-");
    const config = loadConfig({ STAXA_DATA_DIR: data, STAXA_ALLOW_FILE_REPOS: "0" });
    const git = createGit(config);
    const url = await templateCloneUrl(data, STATIC_URL);
    expect(url).toStartWith(`file://${templateReposDir(data)}/tpl_static-`);
    const out = join(tmp("staxa-tplclone-"), "c");
    const { commitSha } = await git.clone({ repoUrl: url!, branch: "main", dir: out, timeoutMs: 30_000, onLog: () => {} });
    expect(commitSha).toMatch(/^[0-9a-f]{40}$/);
    expect(await Bun.file(join(out, "index.html")).text()).toContain("Static Site");
    const foreign = join(tmp("staxa-tplclone-"), "d");
    await expect(
      git.clone({
        repoUrl: `file://${url!.slice("file://".length)}/../../../etc`,
        branch: "main",
        dir: foreign,
        timeoutMs: 30_000,
        onLog: () => {},
      }),
    ).rejects.toThrow(/not allowed/);
  });
});

test("a tenant created with a template's catalog URL is cloned from the bundled source, not from GitHub", async () => {
  const a = await fakeApp({ STAXA_ALLOW_FILE_REPOS: "0" });
  const r = await a.call("POST", "/api/v1/tenants", { name: "quick", source_type: "github", repo_url: STATIC_URL });
  expect(r.status).toBe(202);
  expect(r.json.data.repo_url).toBe(STATIC_URL); // the tenant shows the catalog URL, as the reference does
  await a.idle();
  expect(a.git.clones).toHaveLength(1);
  expect(a.git.clones[0]!.repoUrl).toStartWith(`file://${templateReposDir(a.dataDir)}/tpl_static-`);
});
