// What the detector found, as data: the Dockerfile renderer reads nothing else.
import type { Step } from "./command.ts";

export interface PackageManager {
  name: "npm" | "pnpm" | "yarn" | "bun";
  /** Manifests and lockfiles copied before the install, so the install layer is cached. */
  manifests: string[];
  /** Directories copied with the manifests (yarn berry's .yarn). */
  dirs?: string[];
  /** Environment of the install, build and run (set in the image). */
  env?: Record<string, string>;
  install: Step;
  run(script: string): Step;
}

interface Common {
  framework: string;
  port: number;
}

/** A Node app run by node from its directory; Next.js standalone copies only the traced server. */
export interface NodeApp extends Common {
  kind: "node";
  pm: PackageManager;
  install: Step;
  build?: Step;
  start: Step;
  /** Next.js `output: "standalone"`: the runtime stage gets .next/standalone, .next/static and public/. */
  nextStandalone?: { hasPublic: boolean };
}

/** A Bun app: bun installs, builds and runs it. */
export interface BunApp extends Common {
  kind: "bun";
  pm: PackageManager;
  install: Step;
  build?: Step;
  start: Step;
}

/** Built with Node, then served as files with an SPA fallback to index.html. */
export interface SpaApp extends Common {
  kind: "spa";
  pm: PackageManager;
  install: Step;
  build: Step;
  output: string;
  /** Page served for paths matching no file ("index.html" for client-side routing); null answers 404. */
  fallback: string | null;
}

/** Files served as they are. */
export interface StaticSite extends Common {
  kind: "static";
}

export interface PythonApp extends Common {
  kind: "python";
  /** Files copied before the install; empty when the install needs the whole source (pyproject). */
  manifests: string[];
  install: Step[];
  build?: Step;
  start: Step;
}

export interface GoApp extends Common {
  kind: "go";
  manifests: string[];
  /** Package built into the binary, e.g. "." or "./cmd/server". */
  pkg: string;
}

/** Anything else with a Procfile `web:` line (or staxa.json start), on the Node base image. */
export interface ProcfileApp extends Common {
  kind: "procfile";
  install?: Step;
  build?: Step;
  start: Step;
}

export type Detection = NodeApp | BunApp | SpaApp | StaticSite | PythonApp | GoApp | ProcfileApp;
