// Where the CLI finds its appliance: env STAXA_URL / STAXA_API_KEY, else ~/.config/staxa/config.json (0600).
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { UsageError } from "../args.ts";

export interface Credentials {
  url: string;
  key: string;
}

export function configPath(env = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "staxa", "config.json");
}

// A host the CLI reaches over plain http when the scheme is left out: this machine only.
const LOCAL_HOST = /^(localhost|[a-z0-9.-]+\.localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** `raw` with a scheme: as given, or http:// for localhost and 127.x (`localhost:8080`), https:// for any other host. */
export function withScheme(raw: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) return raw;
  const host = /^(\[[^\]]*\]|[^:/?#]*)/.exec(raw)![1];
  return `${LOCAL_HOST.test(host) ? "http" : "https"}://${raw}`;
}

/** Normalises an appliance URL: http(s) only (scheme optional, see withScheme), no trailing slash, no /api/v1 suffix. */
export function normaliseUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(withScheme(raw.trim()));
  } catch {
    throw new UsageError(`--url must be an http(s) URL, got "${raw}"`);
  }
  if (!["http:", "https:"].includes(u.protocol) || u.username || u.password)
    throw new UsageError(`--url must be an http(s) URL without credentials`);
  return `${u.origin}${u.pathname.replace(/\/+$/, "").replace(/\/api\/v1$/, "")}`;
}

/** Saves the login, readable by the owner only (it holds an API key). */
export function saveCredentials(c: Credentials, env = process.env): string {
  const path = configPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, JSON.stringify({ url: c.url, api_key: c.key }, null, 2) + "\n", { mode: 0o600 });
  chmodSync(path, 0o600); // an existing file keeps its old mode on write
  return path;
}

/** Env wins over the file, each value separately; a missing one is a usage error telling how to log in. */
export function loadCredentials(env = process.env): Credentials {
  let file: { url?: string; api_key?: string } = {};
  const path = configPath(env);
  if (existsSync(path)) {
    try {
      file = JSON.parse(readFileSync(path, "utf8"));
    } catch {
      throw new UsageError(`${path} is not valid JSON; run staxa login again`);
    }
  }
  const url = env.STAXA_URL || file.url;
  const key = env.STAXA_API_KEY || file.api_key;
  if (!url || !key)
    throw new UsageError("not logged in: run `staxa login --url URL --key KEY` (or set STAXA_URL and STAXA_API_KEY)");
  return { url: normaliseUrl(url), key };
}
