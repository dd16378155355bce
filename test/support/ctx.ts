// An in-process context for route tests: :memory: store, silent logs, fakes for outside systems.
import { loadConfig, type Config } from "../../src/config.ts";
import { openDb, migrate } from "../../src/store/db.ts";
import { SecretBox } from "../../src/lib/crypto.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { EventBus } from "../../src/events/bus.ts";
import { createDockerRuntime } from "../../src/runtime/docker.ts";
import { createCaddyProxy } from "../../src/proxy/caddy.ts";
import { createGit } from "../../src/build/git.ts";
import { createApp } from "../../src/app.ts";
import type { ApiDeps } from "../../src/api/deps.ts";
import { assembleContext } from "../../src/cli/context.ts";
import { ensureProvider } from "../../src/core/identity/accounts.ts";
import { createKey } from "../../src/core/identity/keys.ts";

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ STAXA_DATA_DIR: "/tmp/staxa-unit", STAXA_BASE_DOMAIN: "staxa.test", ...env });
}

/**
 * The one context of a test appliance, assembled as the composition root does (cli/context.ts): a
 * :memory: store, silent logs, a rate limit scale of 1000; `over` replaces outside systems or services.
 */
export function testCtx(over: Partial<ApiDeps> = {}, env: Record<string, string> = {}): ApiDeps {
  const config = testConfig({ STAXA_RATE_LIMIT_SCALE: "1000", ...env });
  const db = openDb(":memory:");
  migrate(db);
  const log = over.log ?? silentLogger;
  const ctx = assembleContext({
    config,
    db,
    box: new SecretBox(new Uint8Array(32).fill(7)),
    log,
    bus: new EventBus(db),
    runtime: createDockerRuntime(config),
    proxy: createCaddyProxy(config, db, log),
    git: createGit(config),
    now: () => new Date(),
  });
  return Object.assign(ctx, over);
}

/** An app over a fresh context (`deps` and `ctx` are that one object), plus a helper to call it and a live key. */
export function testApp(over: Partial<ApiDeps> = {}, env: Record<string, string> = {}) {
  const ctx = testCtx(over, env);
  const deps = ctx;
  const app = createApp(deps);
  const { provider } = ensureProvider(ctx.db, { email: "owner@example.com", name: "Owner" });
  const key = createKey(ctx.db, { providerId: provider.id, name: "test", mode: "live", scopes: ["*"], expiresAt: null }).raw;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${key}`, ...headers } };
    if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)["content-type"] = "application/json";
    }
    const res = await app.handle(new Request(`http://localhost${path}`, init));
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, json, text };
  };
  return { app, deps, ctx, provider, key, call };
}
