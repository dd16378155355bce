// The code templates' sources (templates/src/<name>, named by catalog.json's source_dir): embedded in the executable
// by `bun run build` (src/templates-bundle.generated.ts), or in development read from the checkout.
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TEMPLATE_FILES } from "./templates-bundle.generated.ts";

const ROOT = join(import.meta.dir, "..");
/** Dependencies and build outputs a developer may have left in a template directory: never part of its source. */
const SKIP = new Set(["node_modules", ".next", "dist", "__pycache__", ".git", ".venv"]);

/** A directory's files, relative path → bytes, sorted; symlinks and special files are refused (a template is plain files). */
export function readSourceDir(dir: string, prefix = ""): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const name of readdirSync(join(dir, prefix)).sort()) {
    if (SKIP.has(name)) continue;
    const rel = prefix ? `${prefix}/${name}` : name;
    const st = lstatSync(join(dir, rel));
    if (st.isDirectory()) for (const [p, b] of readSourceDir(dir, rel)) out.set(p, b);
    else if (st.isFile()) out.set(rel, new Uint8Array(readFileSync(join(dir, rel))));
    else throw new Error(`template source ${rel} is not a plain file`);
  }
  return out;
}

/** A template's files by its source_dir ("templates/src/static"); undefined when this copy of the appliance has none. */
export function templateFiles(sourceDir: string): Map<string, Uint8Array> | undefined {
  if (TEMPLATE_FILES) {
    const files = TEMPLATE_FILES[sourceDir];
    return files ? new Map(Object.entries(files).map(([p, b64]) => [p, new Uint8Array(Buffer.from(b64, "base64"))])) : undefined;
  }
  // Not embedded: a checkout (development, tests). In a compiled binary this path is inside its virtual root: absent.
  const dir = join(ROOT, sourceDir);
  return existsSync(dir) ? readSourceDir(dir) : undefined;
}
