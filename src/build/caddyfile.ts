// The Caddyfile of generated static images: listen on $PORT, no admin API, no TLS (the appliance's Caddy terminates it).
export const CADDYFILE = "Caddyfile.staxa";

/** `spa` falls back to /index.html for client-side routes; a plain site answers 404 instead. */
export function caddyfile(spa: boolean): string {
  return [
    "{",
    "\tadmin off",
    "\tauto_https off",
    "}",
    "",
    ":{$PORT:8080} {",
    "\troot * /srv",
    "\tencode gzip",
    spa ? "\ttry_files {path} /index.html" : "\ttry_files {path} {path}.html {path}/index.html",
    "\tfile_server {",
    `\t\thide .git .dockerignore Dockerfile.staxa ${CADDYFILE} staxa.json`,
    "\t}",
    "}",
    "",
  ].join("\n");
}
