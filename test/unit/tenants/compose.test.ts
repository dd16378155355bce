// Compose import: the mapping onto service bodies, every refused key named in the 400, and tenants created from it.
import { describe, expect, test } from "bun:test";
import { composeServices } from "../../../src/core/tenants/compose.ts";
import { fakeApp } from "../../support/fakes.ts";

const count = (db: any, table: string) => db.query(`SELECT COUNT(*) AS n FROM ${table}`).get().n as number;
const REPO = { repoUrl: "https://example.com/acme/shop.git", branch: "main" };

const full = `
name: shop
x-env: &env
  LOG_LEVEL: info
services:
  web:
    build: ./web
    ports: ["80:3000"]
    environment:
      <<: *env
      API_URL: http://api:8080
    depends_on: [api]
    x-staxa-primary: true
    x-staxa-routable: true
    restart: always
  api:
    build: { context: services/api, dockerfile: Dockerfile }
    expose: ["8080"]
    environment: ["DATABASE_URL=postgres://app:pw@db:5432/app", "DEBUG=1", "FROM_HOST"]
    depends_on: { db: { condition: service_healthy } }
    healthcheck: { test: ["CMD", "wget", "-qO-", "http://localhost:8080/healthz"], interval: 5s }
    x-staxa-routable: true
  db:
    image: postgres:16-alpine
    ports: ["127.0.0.1:5432:5432/tcp"]
    volumes: ["db_data:/var/lib/postgresql/data", "/anon"]
    healthcheck: { test: ["CMD-SHELL", "pg_isready -U app"] }
    cap_add: [CHOWN, cap_setuid]
    command: postgres -c max_connections=50
volumes:
  db_data: {}
`;

describe("composeServices: mapping", () => {
  test("image/build, ports, environment, volumes, depends_on, healthcheck, command, extensions", () => {
    const r = composeServices(full, REPO);
    expect(r.names).toEqual(["web", "api", "db"]);
    const [web, api, db] = r.services;
    expect(web).toEqual({
      name: "web",
      source_type: "github",
      repo_url: REPO.repoUrl,
      branch: "main",
      build_context: "web",
      port: 3000,
      env: { LOG_LEVEL: "info", API_URL: "http://api:8080" },
      depends_on: ["api"],
      is_primary: true,
      is_routable: true,
    });
    expect(api).toMatchObject({
      build_context: "services/api",
      port: 8080,
      env: { DATABASE_URL: "postgres://app:pw@db:5432/app", DEBUG: "1" },
      depends_on: ["db"],
      healthcheck: { path: "/healthz" },
      is_routable: true,
    });
    expect(db).toEqual({
      name: "db",
      source_type: "image",
      image_url: "postgres:16-alpine",
      port: 5432,
      volumes: [{ name: "db-data", mount_path: "/var/lib/postgresql/data" }],
      command: ["postgres", "-c", "max_connections=50"],
    });
    expect(r.notes.join("\n")).toContain("web.restart ignored");
    expect(r.notes.join("\n")).toContain("api.environment.FROM_HOST has no value");
    expect(r.notes.join("\n")).toContain("db.volumes[1] (anonymous) skipped");
    expect(r.notes.join("\n")).toContain("db.healthcheck ignored");
  });

  test("without x-staxa-routable, the first non-database service with a port is routable", () => {
    const r = composeServices(
      "services:\n  db: { image: 'redis:7', ports: ['6379:6379'] }\n  app: { image: 'example/app:1', ports: ['3000'] }\n",
      {},
    );
    expect(r.services.map((s) => s.is_routable)).toEqual([undefined, true]);
  });

  const refusals: Array<[string, string, string]> = [
    ["privileged", "privileged: true", "compose.services.s.privileged"],
    ["network_mode host", "network_mode: host", "compose.services.s.network_mode"],
    ["pid host", "pid: host", "compose.services.s.pid"],
    ["ipc host", "ipc: host", "compose.services.s.ipc"],
    ["userns_mode host", "userns_mode: host", "compose.services.s.userns_mode"],
    ["devices", "devices: ['/dev/sda:/dev/sda']", "compose.services.s.devices"],
    ["security_opt", "security_opt: ['seccomp:unconfined']", "compose.services.s.security_opt"],
    ["cap_add SYS_ADMIN", "cap_add: [CHOWN, SYS_ADMIN]", "compose.services.s.cap_add"],
    ["cap_add NET_RAW", "cap_add: [NET_RAW]", "compose.services.s.cap_add"],
    ["bind mount ./x:/y", "volumes: ['./x:/y']", "compose.services.s.volumes[0]"],
    ["bind mount /x:/y", "volumes: ['/var/run/docker.sock:/var/run/docker.sock']", "compose.services.s.volumes[0]"],
    ["bind mount ~/x:/y", "volumes: ['~/x:/y']", "compose.services.s.volumes[0]"],
    ["long-syntax bind", "volumes: [{ type: bind, source: /etc, target: /host-etc }]", "compose.services.s.volumes[0]"],
    ["volumes_from", "volumes_from: [other]", "compose.services.s.volumes_from"],
    ["sysctls", "sysctls: { net.ipv4.ip_forward: 1 }", "compose.services.s.sysctls"],
    ["build without a repo", "build: .", "compose.services.s.build"],
    ["build context escaping the repo", "build: ../other", "compose.services.s.build.context"],
    ["port range", "ports: ['3000-3005:3000-3005']", "compose.services.s.ports[0]"],
    ["port 0", "ports: ['0']", "compose.services.s.ports[0]"],
    ["no image nor build", "environment: { A: b }", "compose.services.s.image"],
  ];
  test.each(refusals)("400 naming the key: %s", (_l, line, field) => {
    const doc = `services:\n  s:\n    image: example/s:1\n    ${line}\n`.replace(
      "image: example/s:1\n    environment",
      "environment",
    );
    const text = line.startsWith("build") ? doc.replace("    image: example/s:1\n", "") : doc;
    let err: any;
    try {
      composeServices(text, line.includes("../other") ? REPO : {});
    } catch (e) {
      err = e;
    }
    expect(err?.details?.field).toBe(field);
  });

  test("not YAML, no services, too big, aliases bombs: 400 naming compose", () => {
    for (const text of ["services: [", "version: '3'", "x".repeat(300_000)]) expect(() => composeServices(text, {})).toThrow();
    const bomb =
      "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nservices: {}\n";
    expect(() => composeServices(bomb, {})).toThrow();
  });
});

describe("POST /tenants with compose", () => {
  test("a tenant from a compose body: services, primary, volumes, notes as events", async () => {
    const a = await fakeApp();
    a.git.files = { "web/Dockerfile": "FROM scratch\n", "services/api/Dockerfile": "FROM scratch\n" };
    const r = await a.call("POST", "/api/v1/tenants", {
      name: "shop",
      compose: full,
      repo_url: "https://example.com/acme/shop.git",
    });
    expect(r.status).toBe(202);
    const by = Object.fromEntries(r.json.data.services.map((s: any) => [s.name, s]));
    expect(by.web).toMatchObject({ is_primary: true, host: "shop.staxa.test", build_context: "web", port: 3000 });
    expect(by.api).toMatchObject({ host: "api-shop.staxa.test", healthcheck: { path: "/healthz" } });
    expect(by.db).toMatchObject({ is_routable: false, volumes: [{ name: "db-data", mount_path: "/var/lib/postgresql/data" }] });
    await a.idle();
    const contexts = a.runtime.builds.map((b) => b.contextDir);
    expect(contexts).toHaveLength(2);
    expect(contexts.some((c) => c.endsWith("/services/api"))).toBe(true);
    expect(contexts.some((c) => c.endsWith("/web"))).toBe(true);
    expect(
      a.runtime
        .running()
        .filter((c) => c.running)
        .map((c) => c.labels["staxa.service"])
        .sort(),
    ).toEqual(["api", "db", "web"]);
    const notes = a.ctx.db
      .query("SELECT message FROM events WHERE tenant_id = ? AND message LIKE 'compose:%'")
      .all(r.json.data.id) as any[];
    expect(notes.length).toBeGreaterThan(2);
  });

  test("a refused key: 400 naming it, nothing written", async () => {
    const a = await fakeApp();
    const r = await a.call("POST", "/api/v1/tenants", {
      name: "evil",
      compose: "services:\n  web:\n    image: example/w:1\n    privileged: true\n",
    });
    expect(r.status).toBe(400);
    expect(r.json.error.details.field).toBe("compose.services.web.privileged");
    expect(count(a.ctx.db, "tenants") + count(a.ctx.db, "services")).toBe(0);
  });

  test("a bad service name from compose names its key", async () => {
    const a = await fakeApp();
    const r = await a.call("POST", "/api/v1/tenants", {
      name: "under",
      compose: "services:\n  my_web:\n    image: example/w:1\n    x-staxa-routable: true\n",
    });
    expect(r.status).toBe(400);
    expect(r.json.error.details.field).toBe("compose.services.my_web.name");
  });

  test("compose with services[] is refused", async () => {
    const a = await fakeApp();
    const r = await a.call("POST", "/api/v1/tenants", { name: "both", compose: "services: {}", services: [] });
    expect(r.status).toBe(400);
    expect(r.json.error.details.field).toBe("compose");
  });

  test("compose_file is read from the repository", async () => {
    const a = await fakeApp();
    a.git.files = {
      "docker-compose.yml": "services:\n  web:\n    build: .\n    ports: ['3000']\n  cache:\n    image: redis:7\n",
      Dockerfile: "FROM scratch\n",
    };
    const r = await a.call("POST", "/api/v1/tenants", {
      name: "fromrepo",
      repo_url: "https://example.com/a/b.git",
      compose_file: "docker-compose.yml",
    });
    expect(r.status).toBe(202);
    expect(r.json.data.services.map((s: any) => [s.name, s.is_primary])).toEqual([
      ["cache", false],
      ["web", true],
    ]);
    await a.idle();
    expect(
      a.runtime
        .running()
        .map((c) => c.labels["staxa.service"])
        .sort(),
    ).toEqual(["cache", "web"]);
    const missing = await a.call("POST", "/api/v1/tenants", {
      name: "nofile",
      repo_url: "https://example.com/a/b.git",
      compose_file: "compose.yaml",
    });
    expect(missing.status).toBe(422);
    const escape = await a.call("POST", "/api/v1/tenants", {
      name: "esc",
      repo_url: "https://example.com/a/b.git",
      compose_file: "../x.yml",
    });
    expect(escape.status).toBe(400);
    expect(escape.json.error.details.field).toBe("compose_file");
  });
});
