// Real Docker: labels in one LABEL step leave the image's files exactly as the repo's .dockerignore says, and label it fully.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BuildSpec } from "../../src/runtime/types.ts";
import { BUSYBOX_IMAGE, dockerCli, dockerRuntime, ensureTestImages, uniqueName } from "../support/docker.ts";

const P = uniqueName("staxa-bl-test-") + "-";
const rt = dockerRuntime();
const dirs: string[] = [];
const images: string[] = [];
const LABELS = {
  "staxa.managed": "1",
  "staxa.tenant": "shop",
  "staxa.tenant_id": "ten_x",
  "staxa.service": "web",
  "staxa.deployment": "dep_x",
};

beforeAll(() => ensureTestImages(), 120_000);
afterAll(async () => {
  if (images.length) await dockerCli(["rmi", "-f", ...images]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function build(files: Record<string, string>): Promise<{ imageId: string; log: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "staxa-bl-test-"));
  dirs.push(dir);
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  const log: string[] = [];
  const tag = `${P}img:${images.length}`;
  images.push(tag);
  const spec: BuildSpec = {
    contextDir: dir,
    dockerfile: "Dockerfile",
    tag,
    labels: LABELS,
    memoryBytes: 256 * 1024 * 1024,
    cpus: 1,
    timeoutMs: 60_000,
    onLog: (l) => log.push(l),
  };
  return rt.buildImage(spec).then((r) => ({ ...r, log }));
}

const listing = (log: string[]) =>
  log
    .filter((l) => l.startsWith("ctx:"))
    .map((l) => l.slice(4))
    .sort();
const labelSteps = (log: string[]) => log.filter((l) => /^Step \d+\/\d+ : LABEL/.test(l)).length;
const imageLabels = async (id: string) =>
  JSON.parse((await dockerCli(["image", "inspect", "-f", "{{json .Config.Labels}}", id])).out);
const DOCKERFILE = `FROM ${BUSYBOX_IMAGE}\nCOPY . /ctx\nRUN ls -A /ctx | sed 's/^/ctx:/'\n`;

describe("labels in one step", () => {
  test("no .dockerignore: one LABEL step, every label, and the image holds only the repo's files", async () => {
    const { imageId, log } = await build({ Dockerfile: DOCKERFILE, "index.html": "hi" });
    expect(labelSteps(log)).toBe(1);
    expect(await imageLabels(imageId)).toMatchObject(LABELS);
    expect(listing(log)).toEqual(["Dockerfile", "index.html"]);
  }, 60_000);

  test("a .dockerignore listing itself and the Dockerfile: both stay out of the image, as before", async () => {
    const { imageId, log } = await build({
      Dockerfile: DOCKERFILE,
      "index.html": "hi",
      "notes.txt": "x",
      ".dockerignore": "notes.txt\nDockerfile\n.dockerignore\n",
    });
    expect(labelSteps(log)).toBe(1);
    expect(await imageLabels(imageId)).toMatchObject(LABELS);
    expect(listing(log)).toEqual(["index.html"]);
  }, 60_000);

  test("a .dockerignore the image keeps: the API's per-label steps, the file unchanged in the image", async () => {
    const { imageId, log } = await build({
      Dockerfile: DOCKERFILE + "RUN cat /ctx/.dockerignore | sed 's/^/ign:/'\n",
      "index.html": "hi",
      ".dockerignore": "notes.txt\n",
    });
    expect(labelSteps(log)).toBe(Object.keys(LABELS).length);
    expect(await imageLabels(imageId)).toMatchObject(LABELS);
    expect(listing(log)).toEqual([".dockerignore", "Dockerfile", "index.html"]);
    expect(log.filter((l) => l.startsWith("ign:"))).toEqual(["ign:notes.txt"]);
  }, 60_000);
});
