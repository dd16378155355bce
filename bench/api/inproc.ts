// Per-request cost of the app without the network: app.handle() in a loop, per path (profiling aid).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Elysia } from "elysia";
import { loadConfig } from "../../src/config.ts";
import { createContext } from "../../src/cli/context.ts";
import { createApp } from "../../src/app.ts";
import { RateLimiter } from "../../src/api/plugins/rate-limit.ts";
import { ensureProvider } from "../../src/core/identity/accounts.ts";
import { createKey } from "../../src/core/identity/keys.ts";

const dir = mkdtempSync(join(tmpdir(), "staxa-inproc-"));
const config = loadConfig({
  ...process.env,
  STAXA_DATA_DIR: dir,
  STAXA_MANAGE_CADDY: "0",
  STAXA_LOG_LEVEL: process.env.STAXA_LOG_LEVEL ?? "warn",
});
const ctx = createContext(config);
const app = createApp({ ...ctx, limiter: new RateLimiter(100000) });
app.compile?.();
const { provider } = ensureProvider(ctx.db, { email: "b@example.com", name: null });
const key = createKey(ctx.db, { providerId: provider.id, name: "b", mode: "live", scopes: ["*"], expiresAt: null }).raw;
const hello = new Elysia().get("/", () => "hello");

async function measure(
  name: string,
  handle: (r: Request) => Response | Promise<Response>,
  url: string,
  headers: Record<string, string> = {},
) {
  const N = Number(process.env.N ?? 50000);
  for (let i = 0; i < 2000; i++) await (await handle(new Request(url, { headers }))).text();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await (await handle(new Request(url, { headers }))).text();
  const us = ((performance.now() - t0) * 1000) / N;
  console.log(`${name.padEnd(28)} ${us.toFixed(2).padStart(7)} µs/req`);
}

try {
  for (let round = 0; round < Number(process.env.ROUNDS ?? 2); round++) {
    await measure("hello", (r) => hello.handle(r), "http://localhost/");
    await measure("/healthz", (r) => app.handle(r), "http://localhost/healthz");
    await measure("/api/v1/account", (r) => app.handle(r), "http://localhost/api/v1/account", { authorization: `Bearer ${key}` });
  }
} finally {
  ctx.db.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
