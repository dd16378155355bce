// Turns a cloned tree into a BuildPlan: staxa.json root, then the repo's Dockerfile, else a generated Dockerfile.staxa.
import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config.ts";
import { BuildPlanError, type BaseImages, type BuildPlan } from "./types.ts";
import { readOverride } from "./override.ts";
import { detect } from "./detect.ts";
import { renderDockerfile } from "./dockerfile.ts";
import { RepoTree } from "./tree.ts";

export const GENERATED_DOCKERFILE = "Dockerfile.staxa";

export interface PlanOptions {
  images: BaseImages;
  /** STAXA_NPM_REGISTRY (empty or absent: the base image's registry). */
  npmRegistry?: string;
  /** Write Dockerfile.staxa and its files into the context (default true; false for a dry run). */
  write?: boolean;
}

/** Base images of generated Dockerfiles, from the STAXA_*_IMAGE settings. */
export function baseImagesFrom(config: Config): BaseImages {
  return {
    node: config.builderNodeImage,
    bun: config.builderBunImage,
    python: config.builderPythonImage,
    go: config.builderGoImage,
    static: config.runtimeStaticImage,
    goRuntime: config.runtimeGoImage,
  };
}

/** Plans the build of the tree at `repoDir`; throws BuildPlanError when nothing buildable is found. */
export async function planBuild(repoDir: string, opts: PlanOptions): Promise<BuildPlan> {
  const repo = new RepoTree(repoDir);
  const override = readOverride(repo);
  const tree = override.root && override.root !== "." ? new RepoTree(join(repo.root, override.root)) : repo;
  const where = override.root && override.root !== "." ? ` in "${override.root}"` : "";

  if (tree.escapes("Dockerfile")) throw new BuildPlanError(`The Dockerfile${where} is a link pointing outside the repository`);
  if (tree.isFile("Dockerfile"))
    return { framework: "dockerfile", contextDir: tree.root, dockerfile: "Dockerfile", port: override.port };

  const detection = detect(tree, override);
  const { dockerfile, files, buildArgs } = renderDockerfile(detection, opts.images, { npmRegistry: opts.npmRegistry });
  if (opts.write !== false) writeContext(tree, dockerfile, files);
  return {
    framework: detection.framework,
    contextDir: tree.root,
    dockerfile: GENERATED_DOCKERFILE,
    generatedDockerfile: dockerfile,
    port: detection.port,
    packageManager: "pm" in detection ? detection.pm.name : undefined,
    ...(Object.keys(buildArgs).length ? { buildArgs } : {}),
  };
}

// .git differs between two clones of one commit: keeping it out of the context keeps `COPY . .` cached.
const IGNORED = [".git", "node_modules", GENERATED_DOCKERFILE, ".dockerignore"];

function writeContext(tree: RepoTree, dockerfile: string, files: Record<string, string>): void {
  for (const name of [GENERATED_DOCKERFILE, ".dockerignore", ...Object.keys(files)]) {
    if (tree.isLink(name)) throw new BuildPlanError(`${name} in the repository is a link; remove it`);
  }
  writeFileSync(join(tree.root, GENERATED_DOCKERFILE), dockerfile);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(tree.root, name), text);
  const keep = Object.keys(files).map((f) => `!${f}`);
  const ignore = join(tree.root, ".dockerignore");
  if (existsSync(ignore)) appendFileSync(ignore, `\n# added by Staxa\n${[...IGNORED, ...keep].join("\n")}\n`);
  else writeFileSync(ignore, `${[...IGNORED, ...keep].join("\n")}\n`);
}
