// The build context as a tar stream: the repo only. Symlinks travel as links and are never followed.
import { isAbsolute, join, normalize } from "node:path";
import { pack } from "tar-fs";
import tarStream from "tar-stream";
import { Invalid } from "../lib/errors.ts";
import { contextIgnore } from "../build/dockerignore.ts";
import type { LabelledContext } from "./build-labels.ts";

/**
 * Tars `dir` the way the Docker CLI does: lstat (a link `Dockerfile -> /etc/shadow` is sent as
 * a link, which the daemon resolves inside the context, so no host file leaks), owner 0:0.
 */
export function contextTar(dir: string, dockerfile = "Dockerfile", extra?: LabelledContext): NodeJS.ReadableStream {
  const ignored = contextIgnore(dir, dockerfile);
  const omit = new Set((extra?.omit ?? []).map((rel) => join(dir, rel)));
  // `extra` (build-labels.ts): its files go in first, as plain files owned by root; `omit` stays out. (Added
  // last, right before the end of the archive, they were sometimes missing on the daemon's side.)
  const head = tarStream.pack();
  for (const f of extra?.files ?? []) head.entry({ name: f.name, mode: 0o644, uid: 0, gid: 0, mtime: new Date(0) }, f.content);
  return pack(dir, {
    pack: head,
    dereference: false,
    // The daemon does not apply .dockerignore to an API build: without this, .git (different in every clone) busts the cache.
    ignore: (path) => omit.has(path) || ignored(path),
    map: (h) => {
      h.uid = 0;
      h.gid = 0;
      return h;
    },
  });
}

/** The Dockerfile path relative to the context; anything absolute or climbing out is refused. */
export function dockerfilePath(path: string): string {
  const p = normalize(path || "Dockerfile").replace(/^\.\/+/, "");
  if (!p || p.includes("\0") || isAbsolute(p) || p === ".." || p.startsWith("../")) {
    throw new Invalid("dockerfile", "Dockerfile path must be relative and inside the build context");
  }
  return p;
}
