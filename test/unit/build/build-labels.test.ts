// Image labels in one LABEL line: escaping, and every case where the API's per-label steps must be kept instead.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  LABELLED_DOCKERFILE,
  labelLine,
  labelValue,
  labelledContext,
  labelledDockerfile,
} from "../../../src/runtime/build-labels.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function ctx(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "staxa-labels-"));
  dirs.push(dir);
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), body);
  }
  return dir;
}
const L = { "staxa.tenant": "shop", "staxa.managed": "1" };

describe("labelLine", () => {
  test('one instruction, keys sorted, values quoted with \\ " and $ escaped', () => {
    expect(labelLine(L)).toBe('LABEL "staxa.managed"="1" "staxa.tenant"="shop"');
    expect(labelValue('a"b\\c$HOME')).toBe('"a\\"b\\\\c\\$HOME"');
  });
  test.each([["new\nline"], ["tab\t"], ["nul\u0000"]])("a value with a control character (%j) is not written", (v) => {
    expect(labelValue(v)).toBeUndefined();
    expect(labelLine({ k: v })).toBeUndefined();
  });
  test("no labels, no line", () => expect(labelLine({})).toBeUndefined());
});

describe("labelledDockerfile", () => {
  test("appends the line after the user's last instruction", () => {
    const dir = ctx({ Dockerfile: 'FROM x\nCMD ["a"]\n\n' });
    expect(labelledDockerfile(dir, "Dockerfile", L)).toBe('FROM x\nCMD ["a"]\nLABEL "staxa.managed"="1" "staxa.tenant"="shop"\n');
  });
  test.each([
    ["a line continuation at the end", "FROM x\nRUN echo a \\\n"],
    ["a continuation followed by a comment", "FROM x\nRUN echo a \\\n# trailing comment\n"],
    ["an escape directive", "# escape=`\nFROM x\n"],
    ["a syntax directive", "# syntax=docker/dockerfile:1\nFROM x\n"],
  ])("keeps the API's labels for %s", (_why, text) => {
    expect(labelledDockerfile(ctx({ Dockerfile: text }), "Dockerfile", L)).toBeUndefined();
  });
  test("never reads through a link: a linked Dockerfile or a linked directory on the way", () => {
    const outside = ctx({ "secret/Dockerfile": "FROM x\nRUN cat /etc/shadow\n" });
    const dir = ctx({});
    symlinkSync(join(outside, "secret/Dockerfile"), join(dir, "Dockerfile"));
    symlinkSync(join(outside, "secret"), join(dir, "sub"));
    expect(labelledDockerfile(dir, "Dockerfile", L)).toBeUndefined();
    expect(labelledDockerfile(dir, "sub/Dockerfile", L)).toBeUndefined();
  });
  test("a repo file with the generated name keeps the API's labels", () => {
    expect(
      labelledDockerfile(ctx({ Dockerfile: "FROM x\n", [LABELLED_DOCKERFILE]: "FROM y\n" }), "Dockerfile", L),
    ).toBeUndefined();
  });
});

describe("labelledContext", () => {
  test("without a .dockerignore: adds one listing the generated Dockerfile and itself", () => {
    const c = labelledContext(ctx({ Dockerfile: "FROM x\n" }), "Dockerfile", L)!;
    expect(c.dockerfile).toBe(LABELLED_DOCKERFILE);
    expect(c.files.find((f) => f.name === ".dockerignore")!.content).toBe(`${LABELLED_DOCKERFILE}\n.dockerignore\n`);
    expect(c.omit).toEqual([]);
  });
  test("a .dockerignore listing itself and the Dockerfile: extended, and the repo's Dockerfile left out as the daemon would", () => {
    const c = labelledContext(
      ctx({ Dockerfile: "FROM x\n", ".dockerignore": "node_modules\nDockerfile\n.dockerignore\n" }),
      "Dockerfile",
      L,
    )!;
    expect(c.files.find((f) => f.name === ".dockerignore")!.content).toBe(
      `node_modules\nDockerfile\n.dockerignore\n${LABELLED_DOCKERFILE}\n`,
    );
    expect(c.omit.sort()).toEqual([".dockerignore", "Dockerfile"]);
  });
  test("a .dockerignore the image keeps: the API's labels (its text must not change)", () => {
    expect(labelledContext(ctx({ Dockerfile: "FROM x\n", ".dockerignore": "node_modules\n" }), "Dockerfile", L)).toBeUndefined();
  });
});
