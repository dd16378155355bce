// The dashboard's files: embedded in the executable (src/web-assets.generated.ts), or in development
// read from dist-web/ (`bun run scripts/build-web.ts`); served with cache headers and gzip/brotli.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, gzipSync, constants as zlib } from "node:zlib";
import { ASSETS, INDEX_HTML } from "./web-assets.generated.ts";

const PLACEHOLDER = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Staxa</title>
<meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body><main><h1>Staxa</h1><p>The appliance is running. The API is at <code>/api/v1</code>.</p>
<p>The dashboard is not built into this copy: run <code>bun run scripts/build-web.ts</code> (development) or <code>bun run build</code>.</p></main></body></html>`;

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  woff2: "font/woff2",
  json: "application/json",
};

interface Bundle {
  index: string;
  assets: Record<string, string>;
}

/** The embedded build, else dist-web/ on disk (development, no compile), else the placeholder. */
function loadBundle(): Bundle {
  if (INDEX_HTML) return { index: INDEX_HTML, assets: ASSETS };
  const dir = join(import.meta.dir, "..", "dist-web");
  try {
    if (existsSync(join(dir, "manifest.json"))) {
      const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as { assets: string[] };
      const assets: Record<string, string> = {};
      for (const url of manifest.assets) assets[url] = join(dir, url);
      return { index: readFileSync(join(dir, "index.html"), "utf8"), assets };
    }
  } catch {
    // a half-written dist-web/ (a build in progress) falls back to the placeholder
  }
  return { index: PLACEHOLDER, assets: {} };
}

let bundle: Bundle | undefined;
const bundleNow = () => (bundle ??= loadBundle());

interface Encoded {
  raw: Uint8Array;
  gzip: Uint8Array;
  br: Uint8Array;
  etag: string;
}
const cache = new Map<string, Encoded>();

/** Compressed once per file and kept: the whole dashboard is a few hundred KB at most. */
function encoded(key: string, read: () => Uint8Array): Encoded {
  let e = cache.get(key);
  if (!e) {
    const raw = read();
    e = {
      raw,
      gzip: gzipSync(raw, { level: 9 }),
      br: brotliCompressSync(raw, { params: { [zlib.BROTLI_PARAM_QUALITY]: 9 } }),
      etag: `"${Bun.hash(raw).toString(36)}"`,
    };
    cache.set(key, e);
  }
  return e;
}

function respond(request: Request, e: Encoded, type: string, cacheControl: string): Response {
  const headers: Record<string, string> = {
    "content-type": type,
    "cache-control": cacheControl,
    etag: e.etag,
    vary: "accept-encoding",
    "x-content-type-options": "nosniff",
  };
  if (request.headers.get("if-none-match") === e.etag) return new Response(null, { status: 304, headers });
  const accept = request.headers.get("accept-encoding") ?? "";
  let body = e.raw;
  if (/\bbr\b/.test(accept)) {
    body = e.br;
    headers["content-encoding"] = "br";
  } else if (/\bgzip\b/.test(accept)) {
    body = e.gzip;
    headers["content-encoding"] = "gzip";
  }
  return new Response(body as Uint8Array<ArrayBuffer>, { headers });
}

/** The SPA shell, for "/" and any in-app path (history routing). Revalidated on every load. */
function indexResponse(request: Request): Response {
  const e = encoded("index.html", () => new TextEncoder().encode(bundleNow().index));
  const res = respond(request, e, "text/html; charset=utf-8", "no-cache");
  res.headers.set(
    "content-security-policy",
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  );
  res.headers.set("referrer-policy", "no-referrer");
  return res;
}

/** Serves `/` and `/assets/*` of the dashboard (other paths: the SPA shell, or 404 for assets). */
export function dashboardResponse(path: string, request: Request): Response {
  if (!path.startsWith("/assets/")) return indexResponse(request);
  const file = bundleNow().assets[path];
  if (!file) return new Response("Not found", { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } });
  const ext = path.slice(path.lastIndexOf(".") + 1);
  const e = encoded(path, () => new Uint8Array(readFileSync(file)));
  // Names carry a content hash: a changed file is a new URL, so browsers may keep these forever.
  return respond(request, e, TYPES[ext] ?? "application/octet-stream", "public, max-age=31536000, immutable");
}

/** Does this GET want the SPA shell? Browsers navigating ask for text/html. */
export function wantsDashboard(path: string, request: Request): boolean {
  if (path === "/api" || path.startsWith("/api/") || path.startsWith("/assets/")) return false;
  return (request.headers.get("accept") ?? "").includes("text/html");
}
