// Read-only view of a cloned tree that never follows a link out of it and never reads huge files.
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, join, relative, sep } from "node:path";
import { BuildPlanError } from "./types.ts";

const MAX_BYTES = 1024 * 1024;

/** Files of one directory of a repo, addressed by relative paths. */
export class RepoTree {
  readonly root: string;

  constructor(dir: string) {
    this.root = realpathSync(dir);
  }

  /** Absolute path of `rel` when it is inside the tree after resolving links, else undefined. */
  resolve(rel: string): string | undefined {
    if (isAbsolute(rel) || rel.split(/[\\/]/).includes("..")) return undefined;
    let real: string;
    try {
      real = realpathSync(join(this.root, rel));
    } catch {
      return undefined;
    }
    return real === this.root || real.startsWith(this.root + sep) ? real : undefined;
  }

  /** True when `rel` exists but resolves (through links) to a place outside the tree. */
  escapes(rel: string): boolean {
    try {
      const real = realpathSync(join(this.root, rel));
      return !(real === this.root || real.startsWith(this.root + sep));
    } catch {
      return false;
    }
  }

  /** True when `rel` is a regular file inside the tree (a link pointing out of it counts as absent). */
  isFile(rel: string): boolean {
    const p = this.resolve(rel);
    return p !== undefined && statSync(p).isFile();
  }

  isDir(rel: string): boolean {
    const p = this.resolve(rel);
    return p !== undefined && statSync(p).isDirectory();
  }

  /** True when the path itself is a symbolic link (the clone turns links into files; other trees may not). */
  isLink(rel: string): boolean {
    try {
      return lstatSync(join(this.root, rel)).isSymbolicLink();
    } catch {
      return false;
    }
  }

  /** Text of `rel`, or undefined when absent or outside the tree. */
  read(rel: string): string | undefined {
    const p = this.resolve(rel);
    if (p === undefined || !statSync(p).isFile()) return undefined;
    if (statSync(p).size > MAX_BYTES) throw new BuildPlanError(`${rel} is larger than 1 MB; it cannot be a manifest`);
    return readFileSync(p, "utf8");
  }

  /** Parsed JSON object of `rel`, or undefined when absent; a clear error when it is not a JSON object. */
  readJson(rel: string): Record<string, unknown> | undefined {
    const text = this.read(rel);
    if (text === undefined) return undefined;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new BuildPlanError(`${rel} is not valid JSON: ${(e as Error).message}`);
    }
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new BuildPlanError(`${rel} must hold a JSON object`);
    return v as Record<string, unknown>;
  }

  /** Sorted entry names of directory `rel` (empty when absent). */
  list(rel = "."): string[] {
    const p = this.resolve(rel);
    if (p === undefined || !statSync(p).isDirectory()) return [];
    return readdirSync(p).sort();
  }

  /** Path of `abs` relative to the root, with forward slashes. */
  rel(abs: string): string {
    return relative(this.root, abs).split(sep).join("/");
  }
}
