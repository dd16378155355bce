// The build context as a tar stream: the repo only. Symlinks travel as links and are never followed.
import { isAbsolute, normalize } from "node:path";
import { pack } from "tar-fs";
import { Invalid } from "../lib/errors.ts";
import { contextIgnore } from "../build/dockerignore.ts";

/**
 * Tars `dir` the way the Docker CLI does: lstat (a link `Dockerfile -> /etc/shadow` is sent as
 * a link, which the daemon resolves inside the context, so no host file leaks), owner 0:0.
 */
export function contextTar(dir: string, dockerfile = "Dockerfile"): NodeJS.ReadableStream {
  return pack(dir, {
    dereference: false,
    // The daemon does not apply .dockerignore to an API build: without this, .git (different in every clone) busts the cache.
    ignore: contextIgnore(dir, dockerfile),
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
