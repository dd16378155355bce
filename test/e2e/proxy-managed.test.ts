// The managed Caddy child: started when asked, resumes its routes after a restart, left alone when one already runs.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureCaddy, type ManagedCaddy } from "../../src/proxy/managed.ts";
import { createCaddyProxy } from "../../src/proxy/caddy.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { testConfig } from "../support/ctx.ts";
import { startResolver, type TestResolver } from "../support/resolver.ts";
import { openDb, migrate } from "../../src/store/db.ts";

const dataDir = mkdtempSync(join(tmpdir(), "staxa-managed-"));
const env = {
  STAXA_DATA_DIR: dataDir,
  STAXA_MANAGE_CADDY: "1",
  STAXA_CADDY_ADMIN_URL: "http://127.0.0.1:23301",
  STAXA_HTTP_PORT: "23380",
  STAXA_HTTPS_PORT: "23343",
  STAXA_ACME_CA: "internal",
  STAXA_PORT: "23399",
  STAXA_LOG_LEVEL: "error",
};
let config = testConfig(env);
let running: ManagedCaddy | undefined;
let resolver: TestResolver | undefined;
afterAll(async () => {
  await running?.stop();
  await resolver?.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

test("a managed caddy starts, keeps routes across its own restart (--resume), and stops", async () => {
  const upstream = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("managed ok") });
  try {
    resolver = await startResolver(env);
    config = testConfig({ ...env, STAXA_RESOLVER_PORT: String(resolver.port) });
    const db = openDb(config.dbPath);
    migrate(db);
    running = await ensureCaddy(config, silentLogger);
    expect(running).toBeDefined();
    const proxy = createCaddyProxy(config, db);
    await proxy.init();
    await proxy.setRoute({ id: "m.web", hosts: ["m.staxa.test"], upstream: `127.0.0.1:${upstream.port}`, tls: false });

    // A second appliance process finds Caddy answering and starts none.
    expect(await ensureCaddy({ ...config, manageCaddy: "auto" }, silentLogger)).toBeUndefined();

    await running!.stop();
    await expect(fetch("http://127.0.0.1:23301/config/")).rejects.toThrow();
    running = await ensureCaddy(config, silentLogger);
    const after = createCaddyProxy(config, db);
    await after.init();
    expect(after.hasHost("m.staxa.test")).toBe(true);
    const res = await fetch("http://127.0.0.1:23380/", { headers: { host: "m.staxa.test" } });
    expect(await res.text()).toBe("managed ok");
  } finally {
    upstream.stop(true);
  }
}, 60_000);

test("manageCaddy 0 never starts one", async () => {
  expect(
    await ensureCaddy({ ...config, manageCaddy: "0", caddyAdminUrl: "http://127.0.0.1:23302" }, silentLogger),
  ).toBeUndefined();
  await expect(fetch("http://127.0.0.1:23302/config/")).rejects.toThrow();
});

test("`staxa serve` with no Caddy answering starts its own (STAXA_MANAGE_CADDY=auto), routes through it, and stops it on SIGTERM", async () => {
  const dir = mkdtempSync(join(tmpdir(), "staxa-managed-serve-"));
  const env = {
    ...process.env,
    STAXA_DATA_DIR: dir,
    STAXA_PORT: "23398",
    STAXA_HOST: "127.0.0.1",
    STAXA_MANAGE_CADDY: "auto",
    STAXA_CADDY_ADMIN_URL: "http://127.0.0.1:23302",
    STAXA_HTTP_PORT: "23381",
    STAXA_HTTPS_PORT: "23344",
    STAXA_PUBLIC_SCHEME: "http",
    STAXA_LOG_LEVEL: "error",
    STAXA_RESOLVER_PORT: "23306",
  };
  const serve = Bun.spawn(["bun", "run", join(import.meta.dir, "../../src/main.ts"), "serve"], {
    env,
    stdout: "ignore",
    stderr: "ignore",
  });
  const caddyChildren = async () =>
    (await new Response(Bun.spawn(["pgrep", "-f", `caddy run.*${dir}`], { stdout: "pipe" }).stdout).text()).trim();
  try {
    let config: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && !config?.staxa; i++) {
      await Bun.sleep(100);
      config = await fetch("http://127.0.0.1:23302/config/apps/http/servers").then(
        (r) => (r.ok ? r.json() : undefined),
        () => undefined,
      );
    }
    expect(config?.staxa).toBeDefined(); // the appliance's base config is loaded into the Caddy it started
    expect((await fetch("http://127.0.0.1:23381/", { headers: { host: "nobody.staxa.localhost" } })).status).toBe(404);
    expect(await caddyChildren()).not.toBe("");
    serve.kill("SIGTERM");
    expect(await serve.exited).toBe(0);
    expect(await caddyChildren()).toBe(""); // no orphaned caddy after a clean stop
  } finally {
    serve.kill("SIGKILL");
    Bun.spawnSync(["pkill", "-f", `caddy run.*${dir}`]);
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
