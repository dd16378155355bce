// JavaScript meta-frameworks: how each one's build is served (a node server or files), or why it cannot be here.
// Checked before the plain Vite/SPA rule: SvelteKit, Remix or Astro depend on vite but do not build to dist/.
import { checkRelPath, type Step } from "./command.ts";
import type { RepoTree } from "./tree.ts";

/** package.json as the detectors read it. */
export type Pkg = {
  scripts: Record<string, unknown>;
  deps: Set<string>;
  versions: Map<string, string>;
  main?: unknown;
  packageManager?: unknown;
};

/** A framework's production server, or its build output served as files (`fallback`: the page for unknown paths). */
export type Recipe =
  | { framework: string; serve: "node"; start: Step; port?: number }
  | { framework: string; serve: "files"; output: string; fallback: string | null }
  | { framework: string; serve: "refused"; message: string };

const OVERRIDE_HINT = 'or set "start" (and "port") in staxa.json to the command that serves the built app';

/** The recipe of the first framework in package.json's dependencies, or undefined for none of them. */
export function frameworkRecipe(tree: RepoTree, pkg: Pkg, startScript: string | undefined): Recipe | undefined {
  const has = (d: string) => pkg.deps.has(d);
  if (has("@sveltejs/kit")) return svelteKit(tree, pkg);
  if (has("nuxt") || has("nuxt3")) return nuxt(tree, pkg, startScript);
  if (has("@react-router/dev"))
    return reactRouter(
      tree,
      pkg,
      startScript,
      "react-router",
      "@react-router/serve",
      "react-router-serve",
      "react-router.config",
    );
  if (has("@remix-run/dev"))
    return reactRouter(tree, pkg, startScript, "remix", "@remix-run/serve", "remix-serve", "vite.config");
  if (has("astro")) return astro(tree);
  if (has("@nestjs/core")) return nest(pkg);
  if (has("@angular/core") && tree.isFile("angular.json")) return angular(tree, pkg);
  const other = UNSUPPORTED.find(([dep]) => has(dep));
  if (!other) return undefined;
  const framework = frameworkId(other[1]);
  if (startScript && !/\b(dev|serve)\b/.test(startScript)) return { framework, serve: "node", start: ["sh", "-c", startScript] };
  return refuse(
    other[1],
    `package.json lists ${other[0]}`,
    'it has no "start" script and Staxa does not know how this framework serves its build',
    'add a "start" script to package.json, or a Dockerfile',
  );
}

// Frameworks served through their own "start" script only: without one, say so instead of building a Vite SPA with no dist/.
const UNSUPPORTED: Array<[dep: string, name: string]> = [
  ["@solidjs/start", "SolidStart"],
  ["@builder.io/qwik-city", "Qwik City"],
  ["@analogjs/platform", "Analog"],
  ["@tanstack/react-start", "TanStack Start"],
  ["@tanstack/start", "TanStack Start"],
  ["vike", "Vike"],
  ["waku", "Waku"],
  ["@redwoodjs/core", "RedwoodJS"],
];

// "React Router" -> "react-router": the id recorded on the deployment.
const frameworkId = (name: string) =>
  name
    .toLowerCase()
    .replace(/ /g, "-")
    .replace(/[^a-z-]/g, "");

function refuse(framework: string, evidence: string, why: string, fix: string): Recipe {
  return {
    framework: frameworkId(framework),
    serve: "refused",
    message: `${framework} app detected (${evidence}), but ${why}. Fix it: ${fix}, ${OVERRIDE_HINT}.`,
  };
}

// Text of the first config file that exists, "" when none does.
function config(tree: RepoTree, base: string, exts = ["js", "mjs", "ts", "cjs", "mts"]): string {
  return exts.map((e) => tree.read(`${base}.${e}`)).find((t) => t !== undefined) ?? "";
}

// A quoted string option of a config file (`out: "build"`), when it is a plain relative path.
function option(text: string, key: string): string | undefined {
  const v = new RegExp(`\\b${key}\\s*:\\s*["'\`]([^"'\`]+)["'\`]`).exec(text)?.[1];
  if (v === undefined) return undefined;
  try {
    return checkRelPath(key, v).replace(/^\.\//, "").replace(/\/+$/, "");
  } catch {
    return undefined;
  }
}

// adapter-node: `node build` serves on PORT and HOST. adapter-static: files, with the SPA page when `fallback` is set.
function svelteKit(tree: RepoTree, pkg: Pkg): Recipe {
  const text = config(tree, "svelte.config");
  const adapter =
    /@sveltejs\/adapter-([a-z-]+)/.exec(text)?.[1] ??
    [...pkg.deps].find((d) => d.startsWith("@sveltejs/adapter-"))?.slice("@sveltejs/adapter-".length);
  if (adapter === "node") return { framework: "sveltekit", serve: "node", start: ["node", option(text, "out") ?? "build"] };
  if (adapter === "static")
    return {
      framework: "sveltekit",
      serve: "files",
      output: option(text, "pages") ?? "build",
      fallback: option(text, "fallback") ?? null,
    };
  return refuse(
    "SvelteKit",
    adapter ? `@sveltejs/adapter-${adapter}` : "no adapter",
    `adapter-${adapter ?? "none"} builds no server that runs here`,
    "use @sveltejs/adapter-node (a server) or @sveltejs/adapter-static (files) in svelte.config.js",
  );
}

// Nuxt 3 (Nitro's node-server preset: .output/server/index.mjs reads PORT and HOST); `nuxt generate` builds files.
function nuxt(tree: RepoTree, pkg: Pkg, startScript: string | undefined): Recipe {
  const version = pkg.versions.get("nuxt") ?? "";
  if (/^[~^]?2\./.test(version)) return { framework: "nuxt", serve: "node", start: ["sh", "-c", startScript ?? "nuxt start"] };
  if (/\bnuxt[i]?\s+generate\b/.test(String(pkg.scripts.build ?? "")))
    return { framework: "nuxt", serve: "files", output: ".output/public", fallback: "200.html" };
  const preset = /\bpreset\s*:\s*["'`]([\w-]+)["'`]/.exec(config(tree, "nuxt.config"))?.[1];
  if (preset && !["node-server", "node", "node-cluster"].includes(preset)) {
    return refuse(
      "Nuxt",
      `nitro preset "${preset}"`,
      `the "${preset}" preset builds for another platform`,
      "remove the preset (Nuxt builds a node server by default)",
    );
  }
  return { framework: "nuxt", serve: "node", start: ["node", ".output/server/index.mjs"] };
}

// Remix and React Router v7: their own server package, the app's "start" script, or files in SPA mode (ssr: false).
function reactRouter(
  tree: RepoTree,
  pkg: Pkg,
  startScript: string | undefined,
  framework: string,
  serve: string,
  bin: string,
  configBase: string,
): Recipe {
  if (/\bssr\s*:\s*false\b/.test(config(tree, configBase)))
    return { framework, serve: "files", output: "build/client", fallback: "index.html" };
  if (startScript && !/\b(dev|vite:dev)\b/.test(startScript))
    return { framework, serve: "node", start: ["sh", "-c", startScript] };
  const classic = framework === "remix" && !/vite/.test(String(pkg.scripts.build ?? ""));
  if (pkg.deps.has(serve))
    return { framework, serve: "node", start: [bin, classic ? "build/index.js" : "build/server/index.js"] };
  const name = framework === "remix" ? "Remix" : "React Router";
  return refuse(
    name,
    `package.json lists ${framework === "remix" ? "@remix-run/dev" : "@react-router/dev"}`,
    `it has neither ${serve} nor a "start" script`,
    `add ${serve} and "start": "${bin} ./build/server/index.js"`,
  );
}

// Astro: files by default; a server only with @astrojs/node in standalone mode (it reads HOST, so the image sets it).
function astro(tree: RepoTree): Recipe {
  const text = config(tree, "astro.config");
  const adapter = /@astrojs\/(node|vercel|netlify|cloudflare|deno)\b/.exec(text)?.[1];
  if (!adapter && /\boutput\s*:\s*["'`]server["'`]/.test(text))
    return refuse("Astro", "output: 'server'", "a server build needs an adapter", "add @astrojs/node with mode: 'standalone'");
  if (!adapter) return { framework: "astro", serve: "files", output: option(text, "outDir") ?? "dist", fallback: null };
  if (adapter !== "node")
    return refuse(
      "Astro",
      `@astrojs/${adapter}`,
      `the ${adapter} adapter builds for another platform`,
      "use @astrojs/node with mode: 'standalone'",
    );
  if (!/\bmode\s*:\s*["'`]standalone["'`]/.test(text))
    return refuse(
      "Astro",
      "@astrojs/node in middleware mode",
      "middleware mode needs a server of your own",
      "set mode: 'standalone'",
    );
  return { framework: "astro", serve: "node", start: ["node", "./dist/server/entry.mjs"], port: 4321 };
}

// NestJS: `nest build` writes dist/main.js; the "start" script is `nest start`, a compile-and-run, so start:prod wins.
function nest(pkg: Pkg): Recipe {
  const prod = pkg.scripts["start:prod"];
  return { framework: "nestjs", serve: "node", start: typeof prod === "string" ? ["sh", "-c", prod] : ["node", "dist/main.js"] };
}

// Angular: angular.json's build target says where files go (application builder: <outputPath>/browser) and whether SSR serves them.
function angular(tree: RepoTree, pkg: Pkg): Recipe {
  const json = tree.readJson("angular.json") ?? {};
  const projects = (json.projects ?? {}) as Record<
    string,
    { architect?: Record<string, { builder?: string; options?: Record<string, unknown> }> }
  >;
  const name = Object.keys(projects)[0];
  const build = name ? projects[name]!.architect?.build : undefined;
  if (!name || !build)
    return refuse("Angular", "angular.json", "angular.json has no project with a build target", "add a Dockerfile");
  const opts = build.options ?? {};
  const out = opts.outputPath;
  const base =
    typeof out === "string"
      ? out
      : typeof out === "object" && out && typeof (out as { base?: unknown }).base === "string"
        ? (out as { base: string }).base
        : `dist/${name}`;
  const browserDir =
    typeof out === "object" && out && typeof (out as { browser?: unknown }).browser === "string"
      ? (out as { browser: string }).browser
      : "browser";
  const application = /:application$/.test(build.builder ?? "");
  const dir = (sub: string) =>
    checkRelPath("angular.json: outputPath", [base, sub].filter(Boolean).join("/").replace(/^\.\//, ""));
  if (application && opts.ssr && pkg.deps.has("@angular/ssr"))
    return { framework: "angular", serve: "node", start: ["node", dir("server/server.mjs")], port: 4000 };
  return { framework: "angular", serve: "files", output: application ? dir(browserDir) : dir(""), fallback: "index.html" };
}
