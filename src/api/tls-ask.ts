// Caddy's on-demand TLS `ask` endpoint: may a certificate be obtained for this host? Loopback callers only.
import { Elysia } from "elysia";
import type { ApiDeps } from "./deps.ts";

/** True for 127.0.0.0/8 and ::1, also IPv4-mapped; anything unknown (no socket, in-process) is not loopback. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || address === "::1";
}

/**
 * GET /internal/tls/ask?domain=HOST: 200 when a route serves HOST, else 404. Answered from the
 * proxy's memory (no Caddy or store call) because Caddy asks on every new handshake and an
 * unanswered ask is a TLS outage; it fails closed (any doubt is a refusal).
 */
export function tlsAskRoutes(deps: ApiDeps) {
  return new Elysia({ name: "routes:tls-ask" }).get("/internal/tls/ask", ({ request, server, query }) => {
    if (!isLoopback(server?.requestIP(request)?.address)) return new Response(null, { status: 403 });
    const domain = typeof query.domain === "string" ? query.domain : "";
    return new Response(null, { status: domain && deps.proxy.hasHost(domain) ? 200 : 404 });
  });
}
