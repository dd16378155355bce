// The Caddyfile of generated static images: listen on $PORT, no admin API, no TLS (the appliance's Caddy terminates it).
export const CADDYFILE = "Caddyfile.staxa";

/** Files first (prerendered pages as path.html), then `fallback` (an SPA's index.html for client-side routes); none answers 404. */
export function caddyfile(fallback: string | null): string {
  return [
    "{",
    "\tadmin off",
    "\tauto_https off",
    "}",
    "",
    ":{$PORT:8080} {",
    "\troot * /srv",
    "\tencode gzip",
    `\ttry_files {path} {path}.html {path}/index.html${fallback ? ` /${fallback}` : ""}`,
    "\tfile_server {",
    `\t\thide .git .dockerignore Dockerfile.staxa ${CADDYFILE} staxa.json`,
    "\t}",
    "}",
    "",
  ].join("\n");
}
