// The app a request belongs to, found from its context's `store` (the root app's store object), for the rare
// paths that need the app itself: the client IP (failed auth, anonymous requests), a stream's idle timeout.
// Reading `server` off the context instead would make Elysia define a getter on every request's context.
// The app is kept on its own store (a non-enumerable symbol property), so no state lives in this module.
import type { AnyElysia } from "elysia";

const APP = Symbol("staxa.rootApp");

/** Registers the root app on its store (createApp does, once every plugin and route is in). */
export function registerApp<T extends AnyElysia>(app: T): T {
  Object.defineProperty(app.store, APP, { value: app, configurable: true });
  return app;
}

/** The registered app whose store `store` is; undefined for an app that was never registered. */
export function appOf(store: unknown): AnyElysia | undefined {
  return store && typeof store === "object" ? (store as { [APP]?: AnyElysia })[APP] : undefined;
}

/**
 * Lifts Bun's idle timeout (10 s by default) for one long-lived response. Without this a stream with nothing
 * to say for 10 s — an events stream whose deployment waits behind other builds, under load, or a quiet log —
 * is cut by the server before its first heartbeat or line. A dead client is still noticed: a write fails and
 * aborts the request.
 */
export function keepOpen(store: unknown, request: Request): void {
  appOf(store)?.server?.timeout(request, 0);
}

/** The client's IP address, or "unknown" (in-process requests, an unregistered app, a closed socket). */
export function clientIp(store: unknown, request: Request): string {
  return appOf(store)?.server?.requestIP(request)?.address ?? "unknown";
}
