// Multi-service tenants over the fakes: services[] validation (400 naming the field, nothing written), the
// services endpoints (list, add, remove, deploy, deployments, logs), hosts, volumes and masked env.
import { describe, expect, test } from "bun:test";
import { fakeApp } from "../../support/fakes.ts";

const count = (db: any, table: string) => db.query(`SELECT COUNT(*) AS n FROM ${table}`).get().n as number;
const img = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  source_type: "image",
  image_url: `example/${name}:1`,
  port: 8080,
  ...extra,
});
const three = (name = "shop") => ({
  name,
  env: { SHARED: "tenant", LOG: "info" },
  services: [
    img("web", { is_routable: true }),
    img("api", { is_routable: true, depends_on: ["db"], env: { LOG: "debug", API_TOKEN: "s3cret-token" } }),
    img("db", { image_url: "postgres:16", port: 5432, volumes: [{ name: "data", mount_path: "/var/lib/postgresql/data" }] }),
  ],
});

describe("POST /tenants with services[]: validation", () => {
  const bad: Array<[string, unknown[], string]> = [
    ["duplicate names", [img("web", { is_routable: true }), img("web")], "services[1].name"],
    ["name not a DNS label", [img("Web_1", { is_routable: true })], "services[0].name"],
    ["name with a dot", [img("web.x", { is_routable: true })], "services[0].name"],
    ["name too long", [img("a".repeat(31), { is_routable: true })], "services[0].name"],
    ["no routable service", [img("web"), img("api")], "services"],
    [
      "two primaries",
      [img("web", { is_routable: true, is_primary: true }), img("api", { is_routable: true, is_primary: true })],
      "services[1].is_primary",
    ],
    [
      "a primary that is not routable",
      [img("web", { is_primary: true }), img("api", { is_routable: true })],
      "services[0].is_routable",
    ],
    ["port 0", [img("web", { is_routable: true, port: 0 })], "services[0].port"],
    ["port 65536", [img("web", { is_routable: true, port: 65536 })], "services[0].port"],
    ["port as a string", [img("web", { is_routable: true, port: "80" })], "services[0].port"],
    ["is_routable as a string", [img("web", { is_routable: "true" })], "services[0].is_routable"],
    ["is_primary as a number", [img("web", { is_routable: true, is_primary: 1 })], "services[0].is_primary"],
    ["depends_on an unknown service", [img("web", { is_routable: true, depends_on: ["cache"] })], "services[0].depends_on[0]"],
    ["depends_on itself", [img("web", { is_routable: true, depends_on: ["web"] })], "services[0].depends_on"],
    [
      "depends_on a cycle",
      [
        img("web", { is_routable: true, depends_on: ["api"] }),
        img("api", { depends_on: ["db"] }),
        img("db", { depends_on: ["web"] }),
      ],
      "services[0].depends_on",
    ],
    ["depends_on not a list", [img("web", { is_routable: true, depends_on: "api" })], "services[0].depends_on"],
    [
      "volume with a host path as name",
      [img("web", { is_routable: true, volumes: [{ name: "/etc", mount_path: "/data" }] })],
      "services[0].volumes[0].name",
    ],
    [
      "volume mounted at a relative path",
      [img("web", { is_routable: true, volumes: [{ name: "data", mount_path: "data" }] })],
      "services[0].volumes[0].mount_path",
    ],
    [
      "volume mounted over /proc",
      [img("web", { is_routable: true, volumes: [{ name: "data", mount_path: "/proc" }] })],
      "services[0].volumes[0].mount_path",
    ],
    [
      "volume path with ..",
      [img("web", { is_routable: true, volumes: [{ name: "data", mount_path: "/a/../etc" }] })],
      "services[0].volumes[0].mount_path",
    ],
    [
      "two volumes, one name",
      [
        img("web", {
          is_routable: true,
          volumes: [
            { name: "d", mount_path: "/a" },
            { name: "d", mount_path: "/b" },
          ],
        }),
      ],
      "services[0].volumes[1].name",
    ],
    [
      "healthcheck without a path",
      [img("web", { is_routable: true, healthcheck: { path: "health" } })],
      "services[0].healthcheck.path",
    ],
    ["priority negative", [img("web", { is_routable: true, priority: -1 })], "services[0].priority"],
    ["env value not a string", [img("web", { is_routable: true, env: { A: 1 } })], "services[0].env.A"],
    ["command as a shell string", [img("web", { is_routable: true, command: "sh -c id" })], "services[0].command"],
    [
      "a secondary host longer than one DNS label",
      [img("web", { is_routable: true }), img("a".repeat(30), { is_routable: true })],
      "services[1].name",
    ],
  ];
  test.each(bad)("400 for %s, nothing written", async (_label, svcs, field) => {
    const a = await fakeApp();
    const r = await a.call("POST", "/api/v1/tenants", { name: "t".repeat(40), services: svcs });
    expect(r.status).toBe(400);
    expect(r.json.error.details.field).toBe(field);
    expect(count(a.ctx.db, "tenants") + count(a.ctx.db, "services") + count(a.ctx.db, "deployments")).toBe(0);
  });

  test("the first routable service is primary when none says so", async () => {
    const a = await fakeApp();
    const r = await a.call("POST", "/api/v1/tenants", {
      name: "prim",
      services: [img("worker"), img("api", { is_routable: true }), img("web", { is_routable: true })],
    });
    expect(r.status).toBe(202);
    const prim = r.json.data.services.filter((s: any) => s.is_primary).map((s: any) => s.name);
    expect(prim).toEqual(["api"]);
  });

  test("a tenant named like another tenant's service host is refused (409), and the reverse", async () => {
    const a = await fakeApp();
    expect((await a.call("POST", "/api/v1/tenants", three("acme"))).status).toBe(202);
    const clash = await a.call("POST", "/api/v1/tenants", { name: "api-acme", source_type: "image", image_url: "example/x:1" });
    expect(clash.status).toBe(409);
    expect(clash.json.error.details.field).toBe("name");
    expect(
      (await a.call("POST", "/api/v1/tenants", { name: "web-zeta", source_type: "image", image_url: "example/x:1" })).status,
    ).toBe(202);
    const rev = await a.call("POST", "/api/v1/tenants", {
      name: "zeta",
      services: [img("main", { is_routable: true }), img("web", { is_routable: true })],
    });
    expect(rev.status).toBe(409);
  });
});

describe("a three-service tenant", () => {
  test("hosts, no route for db, volumes named per tenant/service, env merged and masked", async () => {
    const a = await fakeApp();
    const r = await a.call("POST", "/api/v1/tenants", three());
    expect(r.status).toBe(202);
    await a.idle();
    const list = (await a.call("GET", `/api/v1/tenants/${r.json.data.id}/services`)).json.data;
    const by = Object.fromEntries(list.map((s: any) => [s.name, s]));
    expect(by.web).toMatchObject({ is_primary: true, host: "shop.staxa.test", status: "running" });
    expect(by.api).toMatchObject({ is_primary: false, host: "api-shop.staxa.test", depends_on: ["db"] });
    expect(by.db).toMatchObject({
      is_routable: false,
      host: null,
      volumes: [{ name: "data", mount_path: "/var/lib/postgresql/data" }],
    });
    expect(by.api.env).toEqual([
      { key: "API_TOKEN", value: "****" },
      { key: "LOG", value: "debug" },
    ]);
    expect(JSON.stringify(list)).not.toContain("s3cret-token");
    expect([...a.proxy.routes.keys()].sort()).toEqual(["shop.api", "shop.web"]);
    expect(a.proxy.routes.get("shop.api")!.hosts).toEqual(["api-shop.staxa.test"]);
    expect(a.runtime.volumes).toEqual(new Set(["staxa-shop.db.data"]));
    const specs = [...a.runtime.containers.values()].map((c) => c.spec);
    const api = specs.find((s) => s.aliases[0] === "api")!;
    expect(api.env).toMatchObject({ SHARED: "tenant", LOG: "debug", API_TOKEN: "s3cret-token", PORT: "8080" });
    const db = specs.find((s) => s.aliases[0] === "db")!;
    expect(db.volumes).toEqual([{ name: "staxa-shop.db.data", target: "/var/lib/postgresql/data" }]);
    expect(new Set(specs.map((s) => s.network))).toEqual(new Set(["staxa-shop"]));
    const sealed = a.ctx.db.query("SELECT env_enc FROM services WHERE name = 'api'").get() as { env_enc: string };
    expect(sealed.env_enc).not.toContain("s3cret");
  });
});

describe("services endpoints", () => {
  async function ready() {
    const a = await fakeApp();
    const id = (await a.call("POST", "/api/v1/tenants", three())).json.data.id as string;
    await a.idle();
    return { a, id };
  }

  test("add: 202, deployed automatically, routed at its own host", async () => {
    const { a, id } = await ready();
    const r = await a.call("POST", `/api/v1/tenants/${id}/services`, img("admin-ui", { is_routable: true, depends_on: ["api"] }));
    expect(r.status).toBe(202);
    expect(r.json.data).toMatchObject({ name: "admin-ui", status: "pending", host: "admin-ui-shop.staxa.test" });
    expect(r.json.meta.deployment_id).toMatch(/^dep_/);
    await a.idle();
    expect(a.proxy.routes.get("shop.admin-ui")!.hosts).toEqual(["admin-ui-shop.staxa.test"]);
    const s = (await a.call("GET", `/api/v1/tenants/${id}/services`)).json.data.find((x: any) => x.name === "admin-ui");
    expect(s.status).toBe("running");
  });

  const badAdd: Array<[string, Record<string, unknown>, number, string | undefined]> = [
    ["missing name", { source_type: "image", image_url: "a/b:1" }, 400, "name"],
    ["missing source_type", { name: "x" }, 400, "source_type"],
    ["name not a DNS label", img("Bad_Name"), 400, "name"],
    ["port out of range", img("x", { port: 70000 }), 400, "port"],
    ["is_routable as a string", img("x", { is_routable: "yes" }), 400, "is_routable"],
    ["a second primary", img("x", { is_routable: true, is_primary: true }), 400, "is_primary"],
    ["depends_on unknown", img("x", { depends_on: ["nope"] }), 400, "depends_on[0]"],
    ["a name taken", img("api"), 409, "name"],
  ];
  test.each(badAdd)("add refuses %s, nothing changed", async (_l, body, status, field) => {
    const { a, id } = await ready();
    const before = count(a.ctx.db, "services") + count(a.ctx.db, "deployments");
    const r = await a.call("POST", `/api/v1/tenants/${id}/services`, body);
    expect(r.status).toBe(status);
    if (field) expect(r.json.error.details.field).toBe(field);
    expect(count(a.ctx.db, "services") + count(a.ctx.db, "deployments")).toBe(before);
  });

  test("add on a deleting tenant is 422", async () => {
    const { a, id } = await ready();
    await a.call("DELETE", `/api/v1/tenants/${id}`);
    const r = await a.call("POST", `/api/v1/tenants/${id}/services`, img("late"));
    expect(r.status).toBe(422);
  });

  test("remove: 204; container, route, volumes and deployments go; the others keep running", async () => {
    const { a, id } = await ready();
    const webBefore = (await a.call("GET", `/api/v1/tenants/${id}/services`)).json.data.find(
      (s: any) => s.name === "web",
    ).current_deployment_id;
    expect((await a.call("DELETE", `/api/v1/tenants/${id}/services/api`)).status).toBe(204);
    const names = (await a.call("GET", `/api/v1/tenants/${id}/services`)).json.data.map((s: any) => s.name).sort();
    expect(names).toEqual(["db", "web"]);
    expect(a.proxy.routes.has("shop.api")).toBe(false);
    expect(a.runtime.running().filter((c) => c.labels["staxa.service"] === "api")).toEqual([]);
    expect(a.runtime.running().filter((c) => c.labels["staxa.service"] === "web")).toHaveLength(1);
    expect(a.ctx.db.query("SELECT COUNT(*) AS n FROM deployments WHERE service_name = 'api'").get()).toEqual({ n: 0 });
    expect(
      (await a.call("GET", `/api/v1/tenants/${id}/services`)).json.data.find((s: any) => s.name === "web").current_deployment_id,
    ).toBe(webBefore);
    // db is no longer needed by anyone: it can go, and its volume with it
    expect((await a.call("DELETE", `/api/v1/tenants/${id}/services/db`)).status).toBe(204);
    expect(a.runtime.volumes.size).toBe(0);
  });

  test("remove refuses the primary (400), an unknown name (404), a service others depend on (409)", async () => {
    const { a, id } = await ready();
    const p = await a.call("DELETE", `/api/v1/tenants/${id}/services/web`);
    expect(p.status).toBe(400);
    expect(p.json.error.message).toContain("primary");
    expect((await a.call("DELETE", `/api/v1/tenants/${id}/services/nope`)).status).toBe(404);
    const d = await a.call("DELETE", `/api/v1/tenants/${id}/services/db`);
    expect(d.status).toBe(409);
    expect(d.json.error.details.dependents).toEqual(["api"]);
    expect(count(a.ctx.db, "services")).toBe(3);
    expect(a.proxy.routes.size).toBe(2);
  });

  test("deploy one service: 202 with the deployment; its deployments list; logs as text", async () => {
    const { a, id } = await ready();
    const r = await a.call("POST", `/api/v1/tenants/${id}/services/api/deploy`);
    expect(r.status).toBe(202);
    expect(r.json.data).toMatchObject({ service_name: "api", status: "queued" });
    await a.idle();
    const list = await a.call("GET", `/api/v1/tenants/${id}/services/api/deployments`);
    expect(list.json.data.map((d: any) => d.service_name)).toEqual(["api", "api"]);
    expect(list.json.meta.total).toBe(2);
    const logs = await a.call("GET", `/api/v1/tenants/${id}/services/api/logs`);
    expect(logs.status).toBe(200);
    expect(logs.headers.get("content-type")).toContain("text/plain");
    expect(logs.text).toBe("listening\n");
    expect((await a.call("GET", `/api/v1/tenants/${id}/services/nope/logs`)).status).toBe(404);
    expect((await a.call("GET", `/api/v1/tenants/${id}/services/api/logs?lines=0`)).status).toBe(400);
  });
});
