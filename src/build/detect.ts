// Reads a tree and says what it is: Node (and its frameworks), Bun, Python, Go, a static site or a Procfile app; refuses Ruby and PHP.
import { BuildPlanError } from "./types.ts";
import { checkCommand, shell } from "./command.ts";
import type { Detection, GoApp } from "./detection.ts";
import { detectNode, readPackage } from "./detect-node.ts";
import { detectPython, isPython } from "./detect-python.ts";
import { refuseFramework, refuseLanguage } from "./detect-unsupported.ts";
import type { Override } from "./override.ts";
import type { RepoTree } from "./tree.ts";

/** What the detector looks for, in order; the no-match error lists it. */
export const LOOKED_FOR = [
  "Dockerfile",
  "package.json (Next.js, Nuxt, SvelteKit, Remix/React Router, Astro, NestJS, Angular, Vite/CRA/Vue SPA, Bun, Node)",
  "requirements.txt, Pipfile or pyproject.toml (Python: Django, FastAPI, Flask, gunicorn)",
  "go.mod (Go)",
  "index.html (static site)",
  'Procfile with a "web:" line',
];

/** Plans the tree at `tree` (the build context), with the user's overrides applied. */
export function detect(tree: RepoTree, o: Override): Detection {
  refuseFramework(tree);
  const procfileStart = readProcfile(tree);
  const pkg = readPackage(tree);
  if (pkg) return detectNode(tree, pkg, o, procfileStart);
  if (isPython(tree)) return detectPython(tree, o, procfileStart);
  if (tree.isFile("go.mod")) return detectGo(tree, o);
  if (!o.start) refuseLanguage(tree); // before the Procfile: its command would run on the Node image, which has no Ruby or PHP
  const start = o.start ?? procfileStart;
  if (start)
    return {
      kind: "procfile",
      framework: "procfile",
      port: o.port ?? 8080,
      install: o.install ? shell(o.install) : undefined,
      build: o.build ? shell(o.build) : undefined,
      start: shell(start),
    };
  if (tree.isFile("index.html")) {
    for (const key of ["install", "build"] as const)
      if (o[key]) throw new BuildPlanError(`staxa.json: "${key}" needs a package.json; a plain static site is served as it is`);
    return { kind: "static", framework: "static", port: o.port ?? 8080 };
  }
  throw new BuildPlanError(
    `Could not detect how to build this repository. Looked for: ${LOOKED_FOR.join("; ")}. ` +
      'Fix it by adding a Dockerfile, a Procfile with a "web: <command>" line, or a staxa.json with "start" (and "build", "port").',
  );
}

/** The command of the Procfile's `web:` line; other process types are ignored. */
export function readProcfile(tree: RepoTree): string | undefined {
  const text = tree.read("Procfile");
  if (text === undefined) return undefined;
  if (text.includes("\0")) throw new BuildPlanError("Procfile contains a NUL byte");
  const webs = text.split(/\r?\n/).filter((l) => /^web\s*:/.test(l));
  if (webs.length === 0) return undefined;
  if (webs.length > 1) throw new BuildPlanError('Procfile has more than one "web:" line');
  return checkCommand('Procfile: "web"', webs[0]!.replace(/^web\s*:/, ""));
}

function detectGo(tree: RepoTree, o: Override): GoApp {
  for (const key of ["install", "build", "start"] as const) {
    if (o[key])
      throw new BuildPlanError(
        `staxa.json: "${key}" is not supported for Go apps (the binary runs on an image with no shell); add a Dockerfile instead`,
      );
  }
  const isMain = (dir: string) =>
    tree
      .list(dir)
      .some((f) => f.endsWith(".go") && !f.endsWith("_test.go") && /^package main\b/m.test(tree.read(`${dir}/${f}`) ?? ""));
  let pkg = isMain(".") ? "." : undefined;
  if (!pkg) {
    const cmd = tree.list("cmd").find((d) => /^[A-Za-z0-9_-]+$/.test(d) && isMain(`cmd/${d}`));
    if (cmd) pkg = `./cmd/${cmd}`;
  }
  if (!pkg)
    throw new BuildPlanError(
      "go.mod found, but no main package in the root or in cmd/<name>/; add a Dockerfile for other layouts",
    );
  return {
    kind: "go",
    framework: "go",
    port: o.port ?? 8080,
    manifests: ["go.mod", ...(tree.isFile("go.sum") ? ["go.sum"] : [])],
    pkg,
  };
}
