// Multi-service tenants against the real Docker engine and a real Caddy: deploy order in the events,
// discovery by service name, per-service hosts, a volume surviving redeploy and rollback, adding and
// removing a service under load, and bad input changing nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { BUSYBOX_IMAGE, dockerCli, ensureTestImages, removeByPrefix, uniqueName } from "../support/docker.ts";
import { e2eApp, traffic, viaCaddy } from "../support/e2e-app.ts";

const PREFIX = uniqueName("e2s"); // tenant names start with it; Docker objects with staxa-<it>
const BASE = "e2e-services.test";
const ADMIN_PORT = 24000 + Math.floor(Math.random() * 400) * 2;
const HTTP_PORT = ADMIN_PORT + 1;
let caddy: TestCaddy;
let h: Awaited<ReturnType<typeof e2eApp>>;

beforeAll(async () => {
  await ensureTestImages();
  caddy = await startCaddy({ adminPort: ADMIN_PORT });
  h = await e2eApp({
    STAXA_BASE_DOMAIN: BASE,
    STAXA_PUBLIC_SCHEME: "http",
    STAXA_HTTP_PORT: String(HTTP_PORT),
    STAXA_HTTPS_PORT: String(HTTP_PORT + 800),
    STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
    STAXA_DRAIN_SEC: "1",
    STAXA_HEALTH_TIMEOUT_SEC: "15",
  });
}, 120_000);

afterAll(async () => {
  await removeByPrefix(`staxa-${PREFIX}`);
  await caddy?.stop();
  if (h) rmSync(h.dataDir, { recursive: true, force: true });
}, 60_000);

/** A busybox service running `script` (argv form: the shell is the container's, never the appliance's). */
const sh = (name: string, port: number, script: string, extra: Record<string, unknown> = {}) => ({
  name,
  source_type: "image",
  image_url: BUSYBOX_IMAGE,
  port,
  command: ["sh", "-c", script],
  ...extra,
});
// PID 1 ignores SIGTERM unless it traps it: without the trap every stop would wait out Docker's timeout.
const httpd = (port: number, dir: string) => `trap 'exit 0' TERM; httpd -f -p ${port} -h ${dir} & wait`;
const serve = (text: string, port: number) => `mkdir -p /w && echo ${text} > /w/index.html && ${httpd(port, "/w")}`;
// web fetches from api and db by service name at start, then serves what it got.
const WEB =
  "mkdir -p /w; i=0; until timeout 3 wget -qO /w/api.txt http://api:8080/ && timeout 3 wget -qO /w/db.txt http://db:7000/boots; do i=$((i+1)); [ $i -gt 40 ] && exit 1; sleep 0.25; done; echo web-ok > /w/index.html; " +
  httpd(3000, "/w");
// db appends one line per start to a file in its volume and serves the volume.
const DB = "echo boot-$RANDOM$RANDOM >> /data/boots && " + httpd(7000, "/data");

const name = `${PREFIX}-shop`;
const host = `${name}.${BASE}`;
const apiHost = `api-${name}.${BASE}`;
let id = "";
let firstDbDep = "";

async function settle(tenantId: string): Promise<any[]> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const rows = (await h.call("GET", `/api/v1/tenants/${tenantId}/deployments?limit=100`)).json.data;
    if (rows.every((d: any) => d.status === "succeeded" || d.status === "failed")) return rows;
    await Bun.sleep(200);
  }
  throw new Error("deployments did not settle");
}

const dbBoots = async () => {
  const c = (await dockerCli(["ps", "-q", "--filter", `label=staxa.tenant=${name}`, "--filter", "label=staxa.service=db"])).out
    .trim()
    .split("\n");
  expect(c).toHaveLength(1);
  return (await dockerCli(["exec", c[0], "cat", "/data/boots"])).out.trim().split("\n");
};

describe("a web + api + db tenant", () => {
  test("deploys db, api, then web (each healthy first); web reaches api and db by name; hosts per service", async () => {
    const r = await h.call("POST", "/api/v1/tenants", {
      name,
      services: [
        sh("web", 3000, WEB, { is_routable: true, depends_on: ["api", "db"] }),
        sh("api", 8080, serve("api-says-hi", 8080), { is_routable: true }),
        sh("db", 7000, DB, { volumes: [{ name: "data", mount_path: "/data" }] }),
      ],
    });
    expect(r.status).toBe(202);
    id = r.json.data.id;
    const deps = await settle(id);
    expect(deps.map((d: any) => d.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    firstDbDep = deps.find((d: any) => d.service_name === "db").id;
    const ev = h.ctx.bus.since(id, 0) as any[];
    const started = ev.filter((e: any) => e.stage === "deploy" && e.status === "running").map((e: any) => e.service);
    expect(started).toEqual(["db", "api", "web"]);
    const readyIdx = (s: string) => ev.findIndex((e: any) => e.service === s && e.stage === "ready");
    const deployIdx = (s: string) => ev.findIndex((e: any) => e.service === s && e.stage === "deploy");
    expect(readyIdx("db")).toBeLessThan(deployIdx("api"));
    expect(readyIdx("api")).toBeLessThan(deployIdx("web"));

    expect(await viaCaddy(HTTP_PORT, host)).toEqual({ status: 200, body: "web-ok\n" });
    expect((await viaCaddy(HTTP_PORT, host, "/api.txt")).body).toBe("api-says-hi\n");
    expect((await viaCaddy(HTTP_PORT, host, "/db.txt")).body).toMatch(/^boot-\d+\n$/);
    expect(await viaCaddy(HTTP_PORT, apiHost)).toEqual({ status: 200, body: "api-says-hi\n" });
    // db has no route: no host of Caddy's leads to it
    const routes = await h.ctx.proxy.listRoutes();
    expect(
      routes
        .filter((x) => x.id.startsWith(`${name}.`))
        .map((x) => x.id)
        .sort(),
    ).toEqual([`${name}.api`, `${name}.web`]);
    expect((await viaCaddy(HTTP_PORT, `db-${name}.${BASE}`, "/boots")).body).not.toContain("boot-");
    // outside the tenant's network the names mean nothing
    const outside = await dockerCli([
      "run",
      "--rm",
      "--name",
      `staxa-${PREFIX}-probe`,
      BUSYBOX_IMAGE,
      "sh",
      "-c",
      "timeout 3 wget -qO- http://db:7000/boots",
    ]);
    expect(outside.code).not.toBe(0);
    expect(outside.out).not.toContain("boot-");
  }, 150_000);

  test("db's volume keeps its data across a redeploy and a rollback of db", async () => {
    const before = await dbBoots();
    expect(before).toHaveLength(1);
    const re = await h.call("POST", `/api/v1/tenants/${id}/services/db/deploy`);
    expect(re.status).toBe(202);
    expect((await h.waitDeployment(id, re.json.data.id)).status).toBe("succeeded");
    const afterRedeploy = await dbBoots();
    expect(afterRedeploy).toHaveLength(2);
    expect(afterRedeploy[0]).toBe(before[0]);
    const rb = await h.call("POST", `/api/v1/tenants/${id}/deployments/${firstDbDep}/rollback`);
    expect(rb.status).toBe(202);
    expect((await h.waitDeployment(id, rb.json.data.id)).status).toBe("succeeded");
    const afterRollback = await dbBoots();
    expect(afterRollback).toHaveLength(3);
    expect(afterRollback[0]).toBe(before[0]);
    const vols = (await dockerCli(["volume", "ls", "-q", "--filter", `label=staxa.tenant_id=${id}`])).out.trim().split("\n");
    expect(vols).toEqual([`staxa-${name}.db.data`]);
  }, 120_000);

  test("adding and removing a service while web and api serve: 0 failed requests on them", async () => {
    const is = (text: string) => (body: string) => body === text;
    const load = traffic(HTTP_PORT, [
      ...Array.from({ length: 5 }, () => ({ host, want: is("web-ok\n") })),
      ...Array.from({ length: 5 }, () => ({ host: apiHost, want: is("api-says-hi\n") })),
    ]);
    const add = await h.call(
      "POST",
      `/api/v1/tenants/${id}/services`,
      sh("extra", 9000, serve("extra-here", 9000), { is_routable: true }),
    );
    expect(add.status).toBe(202);
    expect((await h.waitDeployment(id, add.json.meta.deployment_id)).status).toBe("succeeded");
    expect(await viaCaddy(HTTP_PORT, `extra-${name}.${BASE}`)).toEqual({ status: 200, body: "extra-here\n" });
    const del = await h.call("DELETE", `/api/v1/tenants/${id}/services/extra`);
    expect(del.status).toBe(204);
    expect((await viaCaddy(HTTP_PORT, `extra-${name}.${BASE}`)).body).not.toContain("extra-here");
    expect(
      (
        await dockerCli(["ps", "-aq", "--filter", `label=staxa.tenant=${name}`, "--filter", "label=staxa.service=extra"])
      ).out.trim(),
    ).toBe("");
    await Bun.sleep(500);
    const { ok, failures } = await load.stop();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(50);
  }, 120_000);

  test("bad input answers 4xx and changes nothing", async () => {
    const snapshot = async () =>
      JSON.stringify({
        services: (await h.call("GET", `/api/v1/tenants/${id}/services`)).json.data.map((s: any) => [
          s.name,
          s.current_deployment_id,
        ]),
        tenants: (await h.call("GET", "/api/v1/tenants?limit=100")).json.meta.total,
        containers: (await dockerCli(["ps", "-q", "--filter", `label=staxa.tenant=${name}`])).out.trim().split("\n").sort(),
      });
    const before = await snapshot();
    const svc = (extra: Record<string, unknown>) => ({ ...sh("x", 8000, "true"), ...extra });
    const cases: Array<[string, string, unknown, number]> = [
      ["POST", "/api/v1/tenants", { name: `${PREFIX}-bad1`, services: [svc({ name: "Web_1", is_routable: true })] }, 400],
      ["POST", "/api/v1/tenants", { name: `${PREFIX}-bad2`, services: [svc({ port: 0, is_routable: true })] }, 400],
      ["POST", "/api/v1/tenants", { name: `${PREFIX}-bad3`, services: [svc({ port: 65536, is_routable: true })] }, 400],
      ["POST", "/api/v1/tenants", { name: `${PREFIX}-bad4`, services: [svc({ is_routable: "true" })] }, 400],
      ["POST", `/api/v1/tenants/${id}/services`, svc({ name: "bad.name" }), 400],
      ["POST", `/api/v1/tenants/${id}/services`, svc({ port: 99999 }), 400],
      ["POST", `/api/v1/tenants/${id}/services`, svc({ is_routable: "yes" }), 400],
      ["POST", `/api/v1/tenants/${id}/services`, svc({ name: "api" }), 409],
      ["DELETE", `/api/v1/tenants/${id}/services/web`, undefined, 400],
    ];
    for (const [method, path, body, status] of cases) {
      const r = await h.call(method, path, body);
      expect(`${method} ${path} ${JSON.stringify(body)?.slice(0, 60)} -> ${r.status}`).toBe(
        `${method} ${path} ${JSON.stringify(body)?.slice(0, 60)} -> ${status}`,
      );
    }
    expect(await snapshot()).toBe(before);
    expect(await viaCaddy(HTTP_PORT, host)).toEqual({ status: 200, body: "web-ok\n" });
  }, 60_000);

  test("deleting the tenant removes its volumes", async () => {
    expect((await h.call("DELETE", `/api/v1/tenants/${id}`)).status).toBe(202);
    const deadline = Date.now() + 30_000;
    while ((await h.call("GET", `/api/v1/tenants/${id}`)).status !== 404 && Date.now() < deadline) await Bun.sleep(200);
    expect((await dockerCli(["volume", "ls", "-q", "--filter", `name=staxa-${name}.`])).out.trim()).toBe("");
    expect((await dockerCli(["ps", "-aq", "--filter", `label=staxa.tenant=${name}`])).out.trim()).toBe("");
  }, 60_000);
});

describe("a compose tenant", () => {
  const cname = `${PREFIX}-cmp`;
  const chost = `${cname}.${BASE}`;
  const compose = `
services:
  front:
    image: ${BUSYBOX_IMAGE}
    ports: ["8000:3000"]
    command: ["sh", "-c", ${JSON.stringify(serve("front-v1", 3000))}]
    depends_on: [store]
    restart: always
    x-staxa-routable: true
  store:
    image: ${BUSYBOX_IMAGE}
    expose: ["7000"]
    command: ["sh", "-c", ${JSON.stringify(DB)}]
    volumes: ["store_data:/data"]
`;

  test("imported, served, redeployed under load with 0 failures, rolled back", async () => {
    const r = await h.call("POST", "/api/v1/tenants", { name: cname, compose });
    expect(r.status).toBe(202);
    const cid = r.json.data.id;
    const deps = await settle(cid);
    expect(deps.map((d: any) => d.status)).toEqual(["succeeded", "succeeded"]);
    const first = deps.find((d: any) => d.service_name === "front").id;
    expect(await viaCaddy(HTTP_PORT, chost)).toEqual({ status: 200, body: "front-v1\n" });
    const load = traffic(
      HTTP_PORT,
      Array.from({ length: 8 }, () => ({ host: chost, want: (body: string) => body === "front-v1\n" })),
    );
    const re = await h.call("POST", `/api/v1/tenants/${cid}/services/front/deploy`);
    expect((await h.waitDeployment(cid, re.json.data.id)).status).toBe("succeeded");
    const rb = await h.call("POST", `/api/v1/tenants/${cid}/deployments/${first}/rollback`);
    expect((await h.waitDeployment(cid, rb.json.data.id)).status).toBe("succeeded");
    await Bun.sleep(1500); // across the drain of the last replaced container
    const { ok, failures } = await load.stop();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(50);
    const vols = (await dockerCli(["volume", "ls", "-q", "--filter", `label=staxa.tenant_id=${cid}`])).out.trim();
    expect(vols).toBe(`staxa-${cname}.store.store-data`);
    await h.call("DELETE", `/api/v1/tenants/${cid}`);
  }, 120_000);
});
