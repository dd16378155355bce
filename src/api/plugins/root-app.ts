// The app a request belongs to, found from its context's `store` (the root app's store object), for the rare
// paths that need the app itself: the client IP (failed auth, anonymous requests).
// Reading `server` off the context instead would make Elysia define a getter on every request's context.
import type { AnyElysia } from "elysia";

const apps = new WeakMap<object, AnyElysia>();

/** Registers the root app (createApp does, once every plugin and route is in). */
export function registerApp<T extends AnyElysia>(app: T): T {
  apps.set(app.store, app);
  return app;
}

/** The registered app whose store `store` is; undefined for an app that was never registered. */
export function appOf(store: unknown): AnyElysia | undefined {
  return store && typeof store === "object" ? apps.get(store) : undefined;
}

/** The client's IP address, or "unknown" (in-process requests, an unregistered app, a closed socket). */
export function clientIp(store: unknown, request: Request): string {
  return appOf(store)?.server?.requestIP(request)?.address ?? "unknown";
}
