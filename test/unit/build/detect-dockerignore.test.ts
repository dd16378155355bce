// .dockerignore as the Docker CLI applies it: the build context of an API build must leave out .git to stay cacheable.
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { contextIgnore, isIgnored, parseDockerignore } from "../../../src/build/dockerignore.ts";

describe("isIgnored", () => {
  const cases: Array<[string, string, boolean]> = [
    [".git", ".git", true],
    [".git", ".git/config", true],
    [".git", "a/.git", false],
    ["**/.git", "a/.git/x", true],
    ["*.log", "x.log", true],
    ["*.log", "d/x.log", false],
    ["**/*.log", "d/e/x.log", true],
    ["/node_modules", "node_modules/x/y.js", true],
    ["./dist/", "dist/a", true],
    ["src/*.ts", "src/a.ts", true],
    ["src/*.ts", "src/d/a.ts", false],
    ["fil?.txt", "file.txt", true],
    ["[a-c].txt", "b.txt", true],
    ["*\n!keep.txt", "keep.txt", false],
    ["*\n!keep.txt", "other.txt", true],
    ["# comment\n\n x.txt ", "x.txt", true],
    ["a.b", "axb", false],
  ];
  for (const [rules, path, want] of cases) {
    test(`${JSON.stringify(rules)} vs ${path}`, () => expect(isIgnored(parseDockerignore(rules), path)).toBe(want));
  }
});

describe("contextIgnore", () => {
  test("skips .git whole, keeps the Dockerfile and .dockerignore even when listed", () => {
    const dir = mkdtempSync(join(tmpdir(), "staxa-ignore-"));
    try {
      mkdirSync(join(dir, ".git"));
      writeFileSync(join(dir, ".dockerignore"), ".git\nDockerfile.staxa\n.dockerignore\n*.md\n");
      const ignore = contextIgnore(dir, "Dockerfile.staxa");
      expect(ignore(join(dir, ".git"))).toBe(true);
      expect(ignore(join(dir, "README.md"))).toBe(true);
      expect(ignore(join(dir, "Dockerfile.staxa"))).toBe(false);
      expect(ignore(join(dir, ".dockerignore"))).toBe(false);
      expect(ignore(join(dir, "server.js"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test("with exceptions, excluded directories are entered so a ! rule can re-include files", () => {
    const dir = mkdtempSync(join(tmpdir(), "staxa-ignore-"));
    try {
      mkdirSync(join(dir, "dist"));
      writeFileSync(join(dir, ".dockerignore"), "*\n!dist/index.html\n");
      const ignore = contextIgnore(dir);
      expect(ignore(join(dir, "dist"))).toBe(false);
      expect(ignore(join(dir, "dist/index.html"))).toBe(false);
      expect(ignore(join(dir, "dist/other.js"))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test("no .dockerignore: nothing is ignored", () => {
    expect(contextIgnore("/nonexistent-dir")("/nonexistent-dir/.git")).toBe(false);
  });
});
