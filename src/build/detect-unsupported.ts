// Languages Staxa has no builder for (Ruby, PHP): recognised so the refusal names the framework and the way out.
import { BuildPlanError } from "./types.ts";
import type { RepoTree } from "./tree.ts";

const FIX = 'Fix it: add a Dockerfile at the repository root, or set "root" in staxa.json to the directory that holds one';

/** Rails and Laravel apps (they often carry a package.json too, which must not make them Node apps). */
export function refuseFramework(tree: RepoTree): void {
  const gemfile = tree.read("Gemfile");
  if (gemfile !== undefined && /^\s*gem\s+["']rails["']/m.test(gemfile)) {
    throw new BuildPlanError(
      `Rails app detected (Gemfile lists "rails"), but Staxa has no Ruby builder. ${FIX} (rails new writes one since Rails 7.1).`,
      "rails",
    );
  }
  const composer = composerRequires(tree);
  if (composer.includes("laravel/framework") || tree.isFile("artisan")) {
    throw new BuildPlanError(
      `Laravel app detected (composer.json requires laravel/framework), but Staxa has no PHP builder. ${FIX} (for example one FROM php:8-apache or serversideup/php).`,
      "laravel",
    );
  }
}

/** Any other Ruby or PHP project, checked last: a Node or Python app may carry a Gemfile for its tooling. */
export function refuseLanguage(tree: RepoTree): void {
  if (tree.isFile("Gemfile"))
    throw new BuildPlanError(`Ruby app detected (Gemfile), but Staxa has no Ruby builder. ${FIX}.`, "ruby");
  if (tree.isFile("composer.json"))
    throw new BuildPlanError(`PHP app detected (composer.json), but Staxa has no PHP builder. ${FIX}.`, "php");
}

function composerRequires(tree: RepoTree): string[] {
  if (!tree.isFile("composer.json")) return [];
  const json = tree.readJson("composer.json")!;
  const req = json.require;
  return req && typeof req === "object" && !Array.isArray(req) ? Object.keys(req) : [];
}
