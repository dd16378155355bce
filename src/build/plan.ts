// Turns a cloned tree into a BuildPlan. A Dockerfile in the repo always wins.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BuildPlanError, type BaseImages, type BuildPlan } from "./types.ts";

/** Plans the build of the tree at `repoDir`; throws BuildPlanError when nothing buildable is found. */
export async function planBuild(repoDir: string, _opts: { images: BaseImages }): Promise<BuildPlan> {
  if (existsSync(join(repoDir, "Dockerfile"))) return { framework: "dockerfile", contextDir: repoDir, dockerfile: "Dockerfile" };
  throw new BuildPlanError("No Dockerfile found in the repository root. Add a Dockerfile.");
}
