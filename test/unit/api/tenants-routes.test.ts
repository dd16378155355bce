// Tenant routes over the fakes: create/list/get/patch/delete, validation (400 with nothing created), 409, 422, 404s.
import { describe, expect, test } from "bun:test";
import { fakeApp } from "../../support/fakes.ts";
import { createKey } from "../../../src/core/identity/keys.ts";
import { ensureProvider } from "../../../src/core/identity/accounts.ts";

const gitBody = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  source_type: "github",
  repo_url: "https://example.com/acme/app.git",
  ...extra,
});
const count = (db: any, table: string) => db.query(`SELECT COUNT(*) AS n FROM ${table}`).get().n as number;

describe("POST /tenants", () => {
  test("202 with id, status, url and events_url; reaches ready through the pipeline", async () => {
    const a = await fakeApp();
    const r = await a.call("POST", "/api/v1/tenants", gitBody("acme-corp", { display_name: "Acme" }));
    expect(r.status).toBe(202);
    expect(r.json.data).toMatchObject({
      name: "acme-corp",
      status: "provisioning",
      url: "https://acme-corp.staxa.test",
      events_url: `/api/v1/tenants/${r.json.data.id}/events`,
    });
    expect(r.json.data.id).toMatch(/^ten_/);
    await a.idle();
    const g = await a.call("GET", `/api/v1/tenants/${r.json.data.id}`);
    expect(g.json.data.status).toBe("ready");
    expect(g.json.data.services).toHaveLength(1);
    expect(g.json.data.services[0]).toMatchObject({ name: "web", is_primary: true, is_routable: true, status: "running" });
    expect(g.json.data.deployments[0]).toMatchObject({
      status: "succeeded",
      commit_sha: "0123456789abcdef0123456789abcdef01234567",
    });
    expect(a.proxy.routes.get("acme-corp.web")).toMatchObject({ hosts: ["acme-corp.staxa.test"], tls: true });
    expect(a.runtime.networks.has("staxa-acme-corp")).toBe(true);
  });

  test("url shows the port when Caddy is not on the scheme's default", async () => {
    const a = await fakeApp({ STAXA_PUBLIC_SCHEME: "http", STAXA_HTTP_PORT: "22080" });
    const r = await a.call("POST", "/api/v1/tenants", gitBody("porty"));
    expect(r.json.data.url).toBe("http://porty.staxa.test:22080");
    await a.idle();
    expect(a.proxy.routes.get("porty.web")!.tls).toBe(false);
  });

  const bad: Array<[string, Record<string, unknown>, string]> = [
    ["name -bad", gitBody("-bad"), "name"],
    ["name UPPER", gitBody("UPPER"), "name"],
    ["name 64 chars", gitBody("a".repeat(64)), "name"],
    ["name a..b", gitBody("a..b"), "name"],
    ["name ../x", gitBody("../x"), "name"],
    ["reserved name", gitBody("admin"), "name"],
    ["missing name", { source_type: "github", repo_url: "https://example.com/a/b" }, "name"],
    ["neither source nor services", { name: "x1" }, "source_type"],
    ["both source and services", { ...gitBody("x2"), services: [] }, "services"],
    ["unknown source_type", { name: "x3", source_type: "docker" }, "source_type"],
    ["repo ext::", gitBody("x4", { repo_url: "ext::sh -c id" }), "repo_url"],
    ["repo --upload-pack", gitBody("x5", { repo_url: "--upload-pack=touch /tmp/x" }), "repo_url"],
    ["repo -oProxyCommand", gitBody("x6", { repo_url: "-oProxyCommand=x" }), "repo_url"],
    ["branch --output", gitBody("x7", { branch: "--output=/tmp/x" }), "branch"],
    ["branch main;id", gitBody("x8", { branch: "main;id" }), "branch"],
    ["branch $(id)", gitBody("x9", { branch: "$(id)" }), "branch"],
    ["image shell chars", { name: "x10", source_type: "image", image_url: "alpine;id" }, "image_url"],
    ["image --help", { name: "x11", source_type: "image", image_url: "--help" }, "image_url"],
    ["app_port 0", gitBody("x12", { app_port: 0 }), "app_port"],
    ["resource_size", gitBody("x13", { resource_size: "huge" }), "resource_size"],
    ["egress_mode", gitBody("x14", { egress_mode: "none" }), "egress_mode"],
    ["env key with =", gitBody("x15", { env: { "A=B": "1" } }), "env"],
    ["env nested value", gitBody("x16", { env: { A: { b: 1 } } }), "env.A"],
    [
      "duplicate service names",
      {
        name: "x17",
        services: [
          { name: "web", source_type: "image", image_url: "app-a", is_routable: true },
          { name: "web", source_type: "image", image_url: "app-b" },
        ],
      },
      "services[1].name",
    ],
    ["commit_sha", gitBody("x18", { commit_sha: "nothex!" }), "commit_sha"],
  ];
  test.each(bad)("400 for %s, nothing created", async (_label, body, field) => {
    const a = await fakeApp();
    const r = await a.call("POST", "/api/v1/tenants", body);
    expect(r.status).toBe(400);
    expect(r.json.error.details.field).toBe(field);
    expect(count(a.ctx.db, "tenants") + count(a.ctx.db, "services") + count(a.ctx.db, "deployments")).toBe(0);
    expect(a.git.clones.length + a.runtime.builds.length).toBe(0);
  });

  test("non-object body is a 400", async () => {
    const a = await fakeApp();
    expect((await a.call("POST", "/api/v1/tenants", "[1]")).status).toBe(400);
    expect((await a.call("POST", "/api/v1/tenants", "{not json")).status).toBe(400);
  });

  test("taken name is 409; the name is free again after delete", async () => {
    const a = await fakeApp();
    const first = await a.call("POST", "/api/v1/tenants", gitBody("dup"));
    expect((await a.call("POST", "/api/v1/tenants", gitBody("dup"))).status).toBe(409);
    await a.idle();
    const d = await a.call("DELETE", `/api/v1/tenants/${first.json.data.id}`);
    expect(d.status).toBe(202);
    expect(d.json.data.status).toBe("deleting");
    await a.idle();
    expect((await a.call("GET", `/api/v1/tenants/${first.json.data.id}`)).status).toBe(404);
    expect(a.runtime.running()).toHaveLength(0);
    expect(a.proxy.routes.size).toBe(0);
    expect(a.runtime.networks.size).toBe(0);
    expect([...a.runtime.images.keys()].filter((k) => k.startsWith("staxa/"))).toHaveLength(0);
    expect((await a.call("POST", "/api/v1/tenants", gitBody("dup"))).status).toBe(202);
  });

  test("tenant limit per provider is 422 (test mode has its own limit)", async () => {
    const a = await fakeApp({ STAXA_TENANT_LIMIT: "2", STAXA_TEST_TENANT_LIMIT: "1" });
    expect((await a.call("POST", "/api/v1/tenants", gitBody("l1"))).status).toBe(202);
    expect((await a.call("POST", "/api/v1/tenants", gitBody("l2"))).status).toBe(202);
    const r = await a.call("POST", "/api/v1/tenants", gitBody("l3"));
    expect(r.status).toBe(422);
    expect(r.json.error.code).toBe("tenant_limit_reached");
    const testKey = createKey(a.ctx.db, {
      providerId: a.provider.id,
      name: "t",
      mode: "test",
      scopes: ["*"],
      expiresAt: null,
    }).raw;
    const auth = { authorization: `Bearer ${testKey}` };
    expect((await a.call("POST", "/api/v1/tenants", gitBody("t1"), auth)).status).toBe(202);
    expect((await a.call("POST", "/api/v1/tenants", gitBody("t2"), auth)).status).toBe(422);
    await a.idle();
  });

  test("image source: pulls when absent, runs it, no clone", async () => {
    const a = await fakeApp();
    const r = await a.call("POST", "/api/v1/tenants", {
      name: "img",
      source_type: "image",
      image_url: "staxa-test/busybox:latest",
      app_port: 8080,
    });
    expect(r.status).toBe(202);
    await a.idle();
    expect(a.runtime.pulls).toEqual(["staxa-test/busybox:latest"]);
    expect(a.git.clones).toHaveLength(0);
    const c = a.runtime.running()[0];
    expect(c.labels).toMatchObject({ "staxa.tenant": "img", "staxa.service": "web", "staxa.managed": "1" });
    expect(a.proxy.routes.get("img.web")!.upstream).toBe(`${c.ip}:8080`);
  });
});

describe("GET /tenants", () => {
  test("filters, searches, sorts and paginates; other providers and modes see nothing", async () => {
    const a = await fakeApp();
    for (const n of ["bravo", "alpha", "charlie"]) await a.call("POST", "/api/v1/tenants", gitBody(n));
    await a.idle();
    const byName = await a.call("GET", "/api/v1/tenants?sort=name&limit=2");
    expect(byName.json.data.map((t: any) => t.name)).toEqual(["alpha", "bravo"]);
    expect(byName.json.meta).toMatchObject({ total: 3, limit: 2, offset: 0 });
    const desc = await a.call("GET", "/api/v1/tenants?sort=-name&offset=1");
    expect(desc.json.data.map((t: any) => t.name)).toEqual(["bravo", "alpha"]);
    expect((await a.call("GET", "/api/v1/tenants?search=ar")).json.data.map((t: any) => t.name)).toEqual(["charlie"]);
    expect((await a.call("GET", "/api/v1/tenants?search=%25")).json.data).toHaveLength(0);
    expect((await a.call("GET", "/api/v1/tenants?status=ready")).json.meta.total).toBe(3);
    expect((await a.call("GET", "/api/v1/tenants?status=bogus")).status).toBe(400);
    expect((await a.call("GET", "/api/v1/tenants?sort=id")).status).toBe(400);
    expect((await a.call("GET", "/api/v1/tenants?limit=0")).status).toBe(400);

    const other = ensureProvider(a.ctx.db, { email: "other@example.com", name: "O" }).provider;
    const otherKey = createKey(a.ctx.db, { providerId: other.id, name: "o", mode: "live", scopes: ["*"], expiresAt: null }).raw;
    const testKey = createKey(a.ctx.db, {
      providerId: a.provider.id,
      name: "t",
      mode: "test",
      scopes: ["*"],
      expiresAt: null,
    }).raw;
    const id = byName.json.data[0].id;
    for (const key of [otherKey, testKey]) {
      const h = { authorization: `Bearer ${key}` };
      expect((await a.call("GET", "/api/v1/tenants", undefined, h)).json.meta.total).toBe(0);
      for (const [m, p] of [
        ["GET", ""],
        ["PATCH", ""],
        ["DELETE", ""],
        ["GET", "/deployments"],
        ["POST", "/deployments"],
        ["GET", "/env"],
        ["PUT", "/env"],
        ["GET", "/events"],
        ["GET", "/logs"],
        ["GET", "/services"],
      ]) {
        const r = await a.call(m, `/api/v1/tenants/${id}${p}`, m === "GET" || m === "DELETE" ? undefined : {}, h);
        expect([m, p, r.status]).toEqual([m, p, 404]);
      }
    }
  });
});

describe("PATCH /tenants/{id}", () => {
  test("display_name applies at once; resource_size redeploys the same image; branch rebuilds", async () => {
    const a = await fakeApp();
    const id = (await a.call("POST", "/api/v1/tenants", gitBody("patchy"))).json.data.id;
    await a.idle();
    const builds = a.runtime.builds.length;
    const n = await a.call("PATCH", `/api/v1/tenants/${id}`, { display_name: "Patchy" });
    expect([n.status, n.json.data.display_name, n.json.meta.effect]).toEqual([200, "Patchy", "none"]);
    const s = await a.call("PATCH", `/api/v1/tenants/${id}`, { resource_size: "large" });
    expect(s.json.meta.effect).toBe("redeploy");
    await a.idle();
    expect(a.runtime.builds.length).toBe(builds);
    expect(a.runtime.running()).toHaveLength(1);
    expect([...a.runtime.containers.values()][0].spec.memoryBytes).toBe(2048 * 1024 * 1024);
    const b = await a.call("PATCH", `/api/v1/tenants/${id}`, { branch: "next" });
    expect(b.json.meta.effect).toBe("rebuild");
    await a.idle();
    expect(a.runtime.builds.length).toBe(builds + 1);
    expect(a.git.clones.at(-1)!.branch).toBe("next");
    expect((await a.call("PATCH", `/api/v1/tenants/${id}`, { app_port: 70000 })).json.error.details.field).toBe("app_port");
    expect((await a.call("PATCH", `/api/v1/tenants/tenant_nope`, { display_name: "x" })).status).toBe(404);
  });

  test("repo_url rebuilds from the new repository; a bad one is a 400 naming repo_url and changes nothing", async () => {
    const a = await fakeApp();
    const id = (await a.call("POST", "/api/v1/tenants", gitBody("moving"))).json.data.id;
    await a.idle();
    const builds = a.runtime.builds.length;
    for (const bad of ["ext::sh -c id", "--upload-pack=touch /tmp/x", 42]) {
      const r = await a.call("PATCH", `/api/v1/tenants/${id}`, { repo_url: bad, display_name: "never" });
      expect([r.status, r.json.error.details.field]).toEqual([400, "repo_url"]);
    }
    expect((await a.call("GET", `/api/v1/tenants/${id}`)).json.data).toMatchObject({
      repo_url: "https://example.com/acme/app.git",
      display_name: null,
    });
    const r = await a.call("PATCH", `/api/v1/tenants/${id}`, { repo_url: "https://example.com/acme/other.git" });
    expect([r.status, r.json.data.repo_url, r.json.meta.effect]).toEqual([200, "https://example.com/acme/other.git", "rebuild"]);
    await a.idle();
    expect(a.runtime.builds.length).toBe(builds + 1);
    expect(a.git.clones.at(-1)!.repoUrl).toBe("https://example.com/acme/other.git");
    const g = (await a.call("GET", `/api/v1/tenants/${id}`)).json.data;
    expect([g.services[0].repo_url, g.deployments[0].status]).toEqual(["https://example.com/acme/other.git", "succeeded"]);
  });

  test("repo_url on an image tenant is a 400 naming repo_url", async () => {
    const a = await fakeApp();
    const body = { name: "imgpatch", source_type: "image", image_url: "staxa-test/busybox:latest" };
    const id = (await a.call("POST", "/api/v1/tenants", body)).json.data.id;
    const r = await a.call("PATCH", `/api/v1/tenants/${id}`, { repo_url: "https://example.com/acme/app.git" });
    expect([r.status, r.json.error.details.field]).toEqual([400, "repo_url"]);
    expect(r.json.error.message).toContain("git-sourced");
  });
});
