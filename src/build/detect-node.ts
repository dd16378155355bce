// package.json trees: package manager from lockfiles, then Next.js, static SPA, Bun or plain Node.
import { BuildPlanError } from "./types.ts";
import { checkCommand, checkRelPath, shell, type Step } from "./command.ts";
import type { Detection, PackageManager } from "./detection.ts";
import type { Override } from "./override.ts";
import type { RepoTree } from "./tree.ts";
import { frameworkRecipe, type Pkg, type Recipe } from "./detect-frameworks.ts";

const SPA_TOOLS: Array<[dep: string, framework: string, output: string]> = [
  ["vite", "vite", "dist"],
  ["react-scripts", "create-react-app", "build"],
  ["@vue/cli-service", "vue-cli", "dist"],
  ["parcel", "parcel", "dist"],
];
// A start script that only runs a dev server does not make a production server.
const DEV_SERVER = /^(vite|react-scripts start|vue-cli-service serve|parcel)(\s|$)/;
const ENTRY_FILES = ["server.js", "index.js", "app.js", "main.js", "src/index.js", "server.mjs", "index.mjs"];
const BUN_ENTRY_FILES = ["index.ts", "src/index.ts", "server.ts", "index.js", "src/index.js"];

/** Reads package.json's scripts, dependencies and entry fields. */
export function readPackage(tree: RepoTree): Pkg | undefined {
  const json = tree.readJson("package.json");
  if (json === undefined) return undefined;
  const obj = (v: unknown): Record<string, unknown> =>
    v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  const versions = new Map(
    Object.entries({ ...obj(json.devDependencies), ...obj(json.dependencies) }).map(([k, v]) => [
      k,
      typeof v === "string" ? v : "",
    ]),
  );
  return {
    scripts: obj(json.scripts),
    deps: new Set(versions.keys()),
    versions,
    main: json.main,
    packageManager: json.packageManager,
  };
}

/** npm, pnpm, yarn or bun, from the lockfile present (npm when none). */
export function packageManager(tree: RepoTree, pkg: Pkg): PackageManager {
  const has = (f: string) => tree.isFile(f);
  const extra = [".npmrc"].filter(has);
  const declared = typeof pkg.packageManager === "string" ? pkg.packageManager : "";
  if (has("bun.lockb") || has("bun.lock") || declared.startsWith("bun@")) {
    const locks = ["bun.lockb", "bun.lock"].filter(has);
    return {
      name: "bun",
      manifests: ["package.json", ...locks, ...extra],
      install: ["bun", "install", ...(locks.length ? ["--frozen-lockfile"] : [])],
      run: (s) => ["bun", "run", s],
    };
  }
  if (has("pnpm-lock.yaml")) {
    // Without a declared version corepack takes the newest pnpm, which may refuse an older lockfile under --frozen-lockfile.
    const pnpm = declared.startsWith("pnpm@") ? "pnpm" : pnpmForLockfile(tree.read("pnpm-lock.yaml") ?? "");
    return {
      name: "pnpm",
      manifests: ["package.json", "pnpm-lock.yaml", ...["pnpm-workspace.yaml", ".pnpmfile.cjs"].filter(has), ...extra],
      install: ["corepack", pnpm, "install", "--frozen-lockfile"],
      run: (s) => ["corepack", pnpm, "run", s],
    };
  }
  if (has("yarn.lock")) {
    const rc = tree.read(".yarnrc.yml");
    const berry = rc !== undefined || /^yarn@[2-9]/.test(declared);
    return {
      name: "yarn",
      manifests: ["package.json", "yarn.lock", ...extra, ...(rc !== undefined ? [".yarnrc.yml"] : [])],
      // .yarn holds the release a yarnPath points at, plugins and patches the install needs.
      dirs: berry && tree.isDir(".yarn") ? [".yarn"] : [],
      // Berry installs Plug'n'Play by default: no node_modules, so `node server.js` and node_modules/.bin fail at run
      // time. Unless the repository chose a linker, it gets the node_modules layout every start command expects.
      env: berry && !/^nodeLinker\s*:/m.test(rc ?? "") ? { YARN_NODE_LINKER: "node-modules" } : undefined,
      install: ["corepack", "yarn", "install", berry ? "--immutable" : "--frozen-lockfile"],
      run: (s) => ["corepack", "yarn", "run", s],
    };
  }
  const lock = ["package-lock.json", "npm-shrinkwrap.json"].find(has);
  return {
    name: "npm",
    manifests: ["package.json", ...(lock ? [lock] : []), ...extra],
    install: ["npm", lock ? "ci" : "install"],
    run: (s) => ["npm", "run", s],
  };
}

// pnpm's major version for a lockfile format: 5.x was written by pnpm 7, 6.x by pnpm 8, 9.0 by pnpm 9 and 10.
function pnpmForLockfile(lock: string): string {
  const v = /^lockfileVersion:\s*['"]?(\d+)/m.exec(lock)?.[1];
  return v === "5" ? "pnpm@7" : v === "6" ? "pnpm@8" : "pnpm@9";
}

/** Plans a package.json tree. */
export function detectNode(tree: RepoTree, pkg: Pkg, o: Override, procfileStart?: string): Detection {
  const pm = packageManager(tree, pkg);
  const script = (name: string) =>
    pkg.scripts[name] === undefined ? undefined : checkCommand(`package.json: scripts.${name}`, pkg.scripts[name]);
  const buildScript = script("build");
  const startScript = script("start");
  const install: Step = o.install ? shell(o.install) : pm.install;
  const build: Step | undefined = o.build ? shell(o.build) : buildScript ? pm.run("build") : undefined;
  const explicitStart = o.start ?? procfileStart;

  const isBun = pm.name === "bun" || pkg.deps.has("@types/bun") || pkg.deps.has("bun-types") || /^bun\s/.test(startScript ?? "");
  if (isBun) {
    const bunPm =
      pm.name === "bun"
        ? pm
        : { ...pm, name: "bun" as const, install: ["bun", "install"], run: (s: string) => ["bun", "run", s] };
    const start = explicitStart
      ? shell(explicitStart)
      : startScript
        ? shell(startScript)
        : ["bun", "run", entry(tree, pkg, BUN_ENTRY_FILES)];
    return {
      kind: "bun",
      framework: "bun",
      port: o.port ?? 3000,
      pm: bunPm,
      install: o.install ? shell(o.install) : bunPm.install,
      build: o.build ? shell(o.build) : buildScript ? bunPm.run("build") : undefined,
      start,
    };
  }

  if (pkg.deps.has("next")) {
    if (!build) throw new BuildPlanError('package.json uses Next.js but has no "build" script; add "build": "next build"');
    const config =
      ["next.config.js", "next.config.mjs", "next.config.ts", "next.config.cjs"]
        .map((f) => tree.read(f))
        .find((t) => t !== undefined) ?? "";
    const standalone = /output\s*:\s*["'`]standalone["'`]/.test(config);
    if (standalone && !explicitStart) {
      return {
        kind: "node",
        framework: "nextjs",
        port: o.port ?? 3000,
        pm,
        install,
        build,
        start: ["node", "server.js"],
        nextStandalone: { hasPublic: tree.isDir("public") },
      };
    }
    return {
      kind: "node",
      framework: "nextjs",
      port: o.port ?? 3000,
      pm,
      install,
      build,
      start: shell(explicitStart ?? startScript ?? "next start"),
    };
  }

  const recipe = frameworkRecipe(tree, pkg, startScript);
  if (recipe) return fromRecipe(recipe, o, { pm, install, build }, explicitStart);

  const tool = SPA_TOOLS.find(([dep]) => pkg.deps.has(dep));
  const servesItself = explicitStart !== undefined || (startScript !== undefined && !DEV_SERVER.test(startScript));
  if (!servesItself && build && (tool || o.output)) {
    const output = o.output ?? viteOutDir(tree) ?? tool![2];
    return {
      kind: "spa",
      framework: tool?.[1] ?? "spa",
      port: o.port ?? 8080,
      pm,
      install,
      build,
      output,
      fallback: "index.html",
    };
  }

  const start = explicitStart ?? startScript;
  return {
    kind: "node",
    framework: "node",
    port: o.port ?? 3000,
    pm,
    install,
    build,
    start: start ? shell(start) : ["node", entry(tree, pkg, ENTRY_FILES)],
  };
}

// staxa.json's "start" or "output" wins over what the framework would do, and gets past a refusal.
function fromRecipe(
  r: Recipe,
  o: Override,
  common: { pm: PackageManager; install: Step; build?: Step },
  explicitStart?: string,
): Detection {
  const { pm, install, build } = common;
  const port = o.port ?? (r.serve === "node" ? r.port : undefined);
  if (explicitStart)
    return { kind: "node", framework: r.framework, port: port ?? 3000, pm, install, build, start: shell(explicitStart) };
  if (r.serve === "refused" && !o.output) throw new BuildPlanError(r.message, r.framework);
  if (!build)
    throw new BuildPlanError(
      `package.json has no "build" script, which a ${r.framework} app needs; add one to package.json, or "build" to staxa.json`,
      r.framework,
    );
  if (o.output || r.serve !== "node") {
    const fallback = r.serve === "files" ? r.fallback : "index.html";
    return {
      kind: "spa",
      framework: r.framework,
      port: o.port ?? 8080,
      pm,
      install,
      build,
      output: o.output ?? (r.serve === "files" ? r.output : "dist"),
      fallback,
    };
  }
  return { kind: "node", framework: r.framework, port: port ?? 3000, pm, install, build, start: r.start };
}

// "main" of package.json when it exists, else the first conventional entry file.
function entry(tree: RepoTree, pkg: Pkg, files: string[]): string {
  if (pkg.main !== undefined) {
    const main = checkRelPath("package.json: main", pkg.main);
    if (tree.isFile(main)) return main;
  }
  const found = files.find((f) => tree.isFile(f));
  if (found) return found;
  throw new BuildPlanError(
    `package.json has no "start" script and no entry file (${files.join(", ")}) was found. Add a "start" script, a Procfile "web:" line or "start" in staxa.json.`,
  );
}

function viteOutDir(tree: RepoTree): string | undefined {
  const text = ["vite.config.ts", "vite.config.js", "vite.config.mjs"].map((f) => tree.read(f)).find((t) => t !== undefined);
  const dir = text && /outDir\s*:\s*["'`]([A-Za-z0-9._\/-]+)["'`]/.exec(text)?.[1];
  return dir && !dir.split("/").includes("..") && !dir.startsWith("/") ? dir.replace(/^\.\//, "") : undefined;
}
