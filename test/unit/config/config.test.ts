// Config: defaults, and every invalid value stops start-up with a message naming its variable.
import { describe, expect, test } from "bun:test";
import { loadConfig, ConfigError, settingsTable } from "../../../src/config.ts";

describe("config", () => {
  test("defaults", () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.dataDir).toBe("/var/lib/staxa");
    expect(c.dbPath).toBe("/var/lib/staxa/staxa.db");
    expect(c.caddyAdminUrl).toBe("http://127.0.0.1:2019");
    expect(c.dockerSocket).toBe("/var/run/docker.sock");
    expect(c.allowPrivateTargets).toBe(false);
    expect(c.sessionTtlSec).toBe(3600);
    expect(c.portPool).toEqual([30000, 32767]);
  });

  test("values parse", () => {
    const c = loadConfig({
      STAXA_PORT: "9000",
      STAXA_BASE_DOMAIN: "Apps.Example.COM",
      STAXA_ALLOW_PRIVATE_TARGETS: "yes",
      STAXA_CADDY_ADMIN_URL: "http://127.0.0.1:2999/",
      STAXA_DNS_SERVERS: "127.0.0.1:53, [::1]:5353",
    });
    expect(c.port).toBe(9000);
    expect(c.baseDomain).toBe("apps.example.com");
    expect(c.allowPrivateTargets).toBe(true);
    expect(c.caddyAdminUrl).toBe("http://127.0.0.1:2999");
    expect(c.dnsServers).toEqual(["127.0.0.1:53", "[::1]:5353"]);
  });

  const BAD: Array<[string, string]> = [
    ["STAXA_PORT", "abc"],
    ["STAXA_PORT", "70000"],
    ["STAXA_PORT", "-1"],
    ["STAXA_PORT", "80; rm -rf /"],
    ["STAXA_BASE_DOMAIN", "not a domain"],
    ["STAXA_BASE_DOMAIN", "-bad.example"],
    ["STAXA_CADDY_ADMIN_URL", "ftp://x"],
    ["STAXA_CADDY_ADMIN_URL", "nope"],
    ["STAXA_PUBLIC_IP", "300.x"],
    ["STAXA_ALLOW_PRIVATE_TARGETS", "maybe"],
    ["STAXA_PORT_POOL", "5000-4000"],
    ["STAXA_PORT_POOL", "1-70000"],
    ["STAXA_DNS_SERVERS", "8.8.8.8"],
    ["STAXA_MANAGE_CADDY", "2"],
    ["STAXA_LOG_LEVEL", "loud"],
    ["STAXA_PUBLIC_SCHEME", "ftp"],
    ["STAXA_SESSION_TTL_SEC", "5"],
    ["STAXA_RATE_LIMIT_SCALE", "0"],
    ["STAXA_MAX_BODY_BYTES", "1"],
  ];
  for (const [name, value] of BAD) {
    test(`${name}=${JSON.stringify(value)} is refused naming ${name}`, () => {
      let err: unknown;
      try {
        loadConfig({ [name]: value });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain(name);
    });
  }

  test("every setting is listed with an env var and a description", () => {
    const rows = settingsTable();
    expect(rows.length).toBeGreaterThan(20);
    for (const [name, , desc] of rows) {
      expect(name).toMatch(/^STAXA_[A-Z0-9_]+$/);
      expect(desc.length).toBeGreaterThan(5);
    }
    expect(new Set(rows.map((r) => r[0])).size).toBe(rows.length);
  });

  test("the CLI stops with exit 78 and names the variable", async () => {
    const proc = Bun.spawn(["bun", "run", "src/main.ts", "migrate"], {
      env: { ...process.env, STAXA_PORT: "eighty", STAXA_DATA_DIR: "/tmp/staxa-config-test-never-created" },
      stderr: "pipe",
      stdout: "pipe",
    });
    const code = await proc.exited;
    expect(code).toBe(78);
    expect(await new Response(proc.stderr).text()).toContain("STAXA_PORT");
  }, 20_000);
});
