// The SSRF guard for every request the appliance makes for a user (webhooks, registries, git):
// check the URL, resolve it, refuse inward addresses, then connect to exactly the address checked.
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import { Invalid, Upstream } from "./errors.ts";
import { classifyIp, isLocalHostAddress } from "./ip-ranges.ts";

export type LookupFn = (host: string) => Promise<Array<{ address: string; family: number }>>;

export interface OutboundOptions {
  /** Field named in the 400 when the URL is refused. */
  field: string;
  /** Allow loopback and private ranges (STAXA_ALLOW_PRIVATE_TARGETS; tests and labs). */
  allowPrivate?: boolean;
  /** Allow plain http:// (https only otherwise). */
  allowHttp?: boolean;
  /** The appliance's own ports, refused on this machine's addresses even when allowPrivate. Default: ownPorts(). */
  ownPorts?: number[];
  /** Resolver (tests inject a hosts-style stub). */
  lookup?: LookupFn;
}

export interface CheckedUrl {
  url: URL;
  /** The address that was checked: connect to this one, never resolve again. */
  address: string;
  family: 4 | 6;
  port: number;
}

const systemLookup: LookupFn = (host) => dnsLookup(host, { all: true, verbatim: true });

/** Ports of the Caddy admin API and of the appliance's API, from settings (or their defaults). */
export function ownPorts(config?: { port: number; caddyAdminUrl: string }): number[] {
  const env = process.env;
  const api = config?.port ?? Number(env.STAXA_PORT || 8080);
  let admin = 2019;
  try {
    const u = new URL(config?.caddyAdminUrl ?? env.STAXA_CADDY_ADMIN_URL ?? "http://127.0.0.1:2019");
    admin = Number(u.port || (u.protocol === "https:" ? 443 : 80));
  } catch {
    // a bad setting is reported by loadConfig; keep the default here
  }
  return [...new Set([api, admin, 2019, 8080])];
}

/** This machine's own interface addresses: its API answers on all of them. */
function ownAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address.replace(/%.*$/, ""));
  return out;
}

function parse(raw: unknown, field: string): URL {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > 2048) throw new Invalid(field, `"${field}" must be a URL`);
  try {
    return new URL(raw);
  } catch {
    throw new Invalid(field, `"${field}" is not a valid URL`);
  }
}

/** Checks a URL a user gave; resolves its host and returns the address to connect to. Throws Invalid(field). */
export async function checkOutboundUrl(raw: unknown, opts: OutboundOptions): Promise<CheckedUrl> {
  const { field } = opts;
  const url = parse(raw, field);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && opts.allowHttp)) {
    throw new Invalid(
      field,
      `"${field}" must use ${opts.allowHttp ? "http or https" : "https"}, not ${url.protocol.replace(/:$/, "")}`,
    );
  }
  if (url.username || url.password) throw new Invalid(field, `"${field}" must not contain credentials`);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!host) throw new Invalid(field, `"${field}" has no host`);
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));

  let addrs: Array<{ address: string; family: number }>;
  if (isIP(host)) addrs = [{ address: host, family: isIP(host) }];
  else {
    try {
      addrs = await (opts.lookup ?? systemLookup)(host);
    } catch {
      throw new Invalid(field, `"${field}" host ${host} does not resolve`);
    }
    if (addrs.length === 0) throw new Invalid(field, `"${field}" host ${host} does not resolve`);
  }

  const own = new Set(opts.ownPorts ?? ownPorts());
  const mine = ownAddresses();
  // Every address must pass: a name resolving to one public and one private address is refused.
  for (const { address } of addrs) {
    const { cls, reason } = classifyIp(address);
    if (own.has(port) && (isLocalHostAddress(address) || mine.has(address))) {
      throw new Invalid(field, `"${field}" points at the appliance itself (port ${port})`, { reason: "own_port" });
    }
    if (cls === "blocked" || (cls === "private" && !opts.allowPrivate)) {
      throw new Invalid(field, `"${field}" resolves to a ${reason} address, which is not allowed`, {
        reason: reason.replace(/\W+/g, "_"),
      });
    }
  }
  const first = addrs[0];
  return { url, address: first.address, family: first.family === 6 ? 6 : 4, port };
}

export interface SafeFetchOptions extends OutboundOptions {
  timeoutMs?: number;
  maxBytes?: number;
  maxRedirects?: number;
  /** Extra CA roots (tests with self-signed receivers). */
  ca?: string;
}

/** Reads a body up to `max` bytes; throws past it so a huge answer cannot fill memory. */
async function readCapped(res: Response, max: number, abort: AbortController): Promise<Buffer> {
  const reader = res.body?.getReader();
  if (!reader) return Buffer.alloc(0);
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      abort.abort();
      throw new Upstream("outbound request", `response exceeds ${max} bytes`);
    }
    parts.push(value);
  }
  return Buffer.concat(parts);
}

/** fetch() for user-given URLs: checked address pinned (no DNS rebinding), timeout, size cap, each redirect re-checked. */
export async function safeFetch(raw: string, init: RequestInit = {}, opts: SafeFetchOptions): Promise<Response> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), opts.timeoutMs ?? 10_000);
  const signal = init.signal ? AbortSignal.any([init.signal, abort.signal]) : abort.signal;
  let current = raw;
  let method = (init.method ?? "GET").toUpperCase();
  let body = init.body;
  const headers = new Headers(init.headers);
  try {
    for (let hop = 0; ; hop++) {
      const checked = await checkOutboundUrl(current, opts);
      const { url, address, family, port } = checked;
      const target = `${url.protocol}//${family === 6 ? `[${address}]` : address}:${port}${url.pathname}${url.search}`;
      headers.set("host", url.host);
      const hostIsName = isIP(url.hostname.replace(/^\[|\]$/g, "")) === 0;
      const tls =
        url.protocol === "https:"
          ? { ...(hostIsName ? { serverName: url.hostname } : {}), ...(opts.ca ? { ca: opts.ca } : {}) }
          : undefined;
      const res = await fetch(target, {
        method,
        headers,
        body,
        redirect: "manual",
        signal,
        tls,
        proxy: undefined,
      } as RequestInit);
      const location = res.headers.get("location");
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        if (hop >= (opts.maxRedirects ?? 5)) throw new Upstream("outbound request", "too many redirects");
        const next = new URL(location, url);
        if (next.origin !== url.origin) headers.delete("authorization");
        // 303 (and 301/302 after a POST, as browsers do) turns into a GET without a body.
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
          method = "GET";
          body = undefined;
          headers.delete("content-type");
        }
        current = next.toString();
        continue;
      }
      const bytes = await readCapped(res, opts.maxBytes ?? 1_048_576, abort);
      const empty = bytes.byteLength === 0 || [101, 204, 205, 304].includes(res.status);
      return new Response(empty ? null : new Blob([bytes as unknown as ArrayBuffer]), {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
      });
    }
  } finally {
    clearTimeout(timer);
  }
}
