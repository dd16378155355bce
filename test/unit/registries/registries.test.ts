// Registry credentials over a fake v2 registry (Bun.serve, Basic or Bearer token flow): CRUD without the
// password, SSRF refusals, verify, repos/tags (slashed names), and the credential the pipeline pulls with.
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { fakeApp } from "../../support/fakes.ts";
import { createKey } from "../../../src/core/identity/keys.ts";
import { credentialHost, registryAuthFor } from "../../../src/core/registries/registries.ts";
import { registryHost } from "../../../src/lib/image-ref.ts";
import { apiBase, parseChallenge } from "../../../src/core/registries/client.ts";
import type { RegistryAuth } from "../../../src/runtime/types.ts";

const USER = "acme";
const PASS = "pw; whoami; #s3cret";
const manifest = (n: number) =>
  JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.docker.distribution.manifest.v2+json",
    config: { size: 100 * n, digest: "sha256:" + "c".repeat(64) },
    layers: [{ size: 1000 }, { size: 2000 * n }],
  });
const REPOS: Record<string, Record<string, string>> = {
  "team/app": { latest: manifest(1), "v1.2.3": manifest(2) },
  "team/api": { latest: manifest(1) },
  tools: { "1": manifest(3) },
};

/** A fake registry: "basic" answers Basic challenges; "bearer" sends clients to its /token realm. */
function fakeRegistry(mode: "basic" | "bearer") {
  const basic = `Basic ${Buffer.from(`${USER}:${PASS}`).toString("base64")}`;
  const requests: string[] = [];
  let port = 0;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req): Response {
      const url = new URL(req.url);
      requests.push(`${req.method} ${url.pathname}${url.search}`);
      const auth = req.headers.get("authorization");
      if (url.pathname === "/token") {
        if (auth !== basic) return new Response("{}", { status: 401 });
        return Response.json({ token: `tok-${url.searchParams.get("scope") ?? ""}`, expires_in: 300 });
      }
      const ok = mode === "basic" ? auth === basic : !!auth?.startsWith("Bearer tok-");
      if (!ok) {
        const challenge =
          mode === "basic"
            ? 'Basic realm="Registry Realm"'
            : `Bearer realm="http://127.0.0.1:${port}/token",service="fake-registry",scope="registry:catalog:*"`;
        return Response.json({ errors: [{ code: "UNAUTHORIZED" }] }, { status: 401, headers: { "www-authenticate": challenge } });
      }
      if (url.pathname === "/v2/") return Response.json({});
      if (url.pathname === "/v2/_catalog") return Response.json({ repositories: Object.keys(REPOS).sort() });
      let m = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
      if (m)
        return REPOS[m[1]!]
          ? Response.json({ name: m[1], tags: Object.keys(REPOS[m[1]!]!) })
          : Response.json({ errors: [{ code: "NAME_UNKNOWN" }] }, { status: 404 });
      m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
      const body = m ? REPOS[m[1]!]?.[m[2]!] : undefined;
      if (body)
        return new Response(body, {
          headers: {
            "content-type": "application/vnd.docker.distribution.manifest.v2+json",
            "docker-content-digest": `sha256:${createHash("sha256").update(body).digest("hex")}`,
          },
        });
      return Response.json({ errors: [{ code: "MANIFEST_UNKNOWN" }] }, { status: 404 });
    },
  });
  port = server.port!;
  return { url: `http://127.0.0.1:${server.port}`, host: `127.0.0.1:${server.port}`, requests, stop: () => server.stop(true) };
}

const basicReg = fakeRegistry("basic");
const bearerReg = fakeRegistry("bearer");
afterAll(() => {
  basicReg.stop();
  bearerReg.stop();
});

const ENV = { STAXA_ALLOW_PRIVATE_TARGETS: "1", STAXA_ALLOW_HTTP_REGISTRIES: "1" };
const body = (over: Record<string, unknown> = {}) => ({
  name: "Private",
  registry_url: basicReg.url,
  username: USER,
  password: PASS,
  ...over,
});
const count = (db: any) => db.query("SELECT COUNT(*) AS n FROM registries").get().n as number;

describe("CRUD", () => {
  test("create 201 without the password; list, get; the password is sealed at rest; delete 204", async () => {
    const a = await fakeApp(ENV);
    const r = await a.call("POST", "/api/v1/registries", body());
    expect(r.status).toBe(201);
    expect(r.json.data).toMatchObject({ name: "Private", registry_url: basicReg.url, username: USER, verified: false });
    expect(r.json.data.id).toMatch(/^reg_/);
    expect(r.text).not.toContain(PASS);
    const id = r.json.data.id;
    const list = await a.call("GET", "/api/v1/registries");
    expect(list.json.data.map((x: any) => x.id)).toEqual([id]);
    const g = await a.call("GET", `/api/v1/registries/${id}`);
    expect(Object.keys(g.json.data).sort()).toEqual([
      "created_at",
      "id",
      "name",
      "registry_url",
      "updated_at",
      "username",
      "verified",
    ]);
    expect(JSON.stringify(a.ctx.db.query("SELECT * FROM registries").all())).not.toContain(PASS);
    expect((await a.call("DELETE", `/api/v1/registries/${id}`)).status).toBe(204);
    expect((await a.call("GET", `/api/v1/registries/${id}`)).status).toBe(404);
  });

  test("registry URLs that are SSRF, credentialed, non-https or garbage → 400 naming registry_url, nothing stored", async () => {
    const strict = await fakeApp();
    const lax = await fakeApp({ STAXA_ALLOW_HTTP_REGISTRIES: "1" });
    const cases: Array<[typeof strict, string]> = [
      [strict, "http://169.254.169.254/"],
      [lax, "http://169.254.169.254/"],
      [lax, "https://169.254.169.254/latest/meta-data"],
      [strict, "file:///etc/passwd"],
      [strict, "https://user:pass@registry.example.com"],
      [strict, "garbage"],
      [strict, ""],
      [strict, "https://127.0.0.1:5000/"],
      [strict, "https://10.0.0.8/"],
      [strict, "ftp://registry.example.com/"],
      [strict, "https://[::1]/"],
      [lax, "http://localhost:2019/"],
    ];
    for (const [a, url] of cases) {
      const r = await a.call("POST", "/api/v1/registries", body({ registry_url: url }));
      expect([url, r.status, r.json.error.details.field]).toEqual([url, 400, "registry_url"]);
      expect(r.text).not.toContain(PASS);
    }
    expect(count(strict.ctx.db) + count(lax.ctx.db)).toBe(0);
  });

  test("other bad fields → 400 naming them; a foreign or other-mode id → 404", async () => {
    const a = await fakeApp(ENV);
    for (const [over, field] of [
      [{ name: "" }, "name"],
      [{ username: "a\nb" }, "username"],
      [{ password: 5 }, "password"],
      [{ password: "" }, "password"],
    ] as const) {
      const r = await a.call("POST", "/api/v1/registries", body(over));
      expect([r.status, r.json.error.details.field]).toEqual([400, field]);
    }
    expect(count(a.ctx.db)).toBe(0);
    const id = (await a.call("POST", "/api/v1/registries", body())).json.data.id;
    const testKey = createKey(a.ctx.db, {
      providerId: a.provider.id,
      name: "t",
      mode: "test",
      scopes: ["*"],
      expiresAt: null,
    }).raw;
    for (const [m, p] of [
      ["GET", ""],
      ["PATCH", ""],
      ["DELETE", ""],
      ["POST", "/verify"],
      ["GET", "/repos"],
    ] as const) {
      const r = await a.call(m, `/api/v1/registries/${id}${p}`, m === "PATCH" ? { name: "x" } : undefined, {
        authorization: `Bearer ${testKey}`,
      });
      expect([m, p, r.status]).toEqual([m, p, 404]);
    }
  });

  test("PATCH: a name change keeps verified; a credential change resets it", async () => {
    const a = await fakeApp(ENV);
    const id = (await a.call("POST", "/api/v1/registries", body())).json.data.id;
    expect((await a.call("POST", `/api/v1/registries/${id}/verify`)).json.data).toEqual({ status: "verified" });
    expect((await a.call("PATCH", `/api/v1/registries/${id}`, { name: "Renamed" })).json.data).toMatchObject({
      name: "Renamed",
      verified: true,
    });
    const p = await a.call("PATCH", `/api/v1/registries/${id}`, { password: "new-secret" });
    expect(p.json.data.verified).toBe(false);
    expect(p.text).not.toContain("new-secret");
    expect((await a.call("PATCH", `/api/v1/registries/${id}`, { registry_url: "file:///etc/passwd" })).status).toBe(400);
  });
});

describe("registry protocol", () => {
  for (const reg of [basicReg, bearerReg]) {
    const kind = reg === basicReg ? "Basic" : "Bearer";
    test(`${kind}: verify succeeds; a wrong password → 422 and verified false`, async () => {
      const a = await fakeApp(ENV);
      const id = (await a.call("POST", "/api/v1/registries", body({ registry_url: reg.url }))).json.data.id;
      expect((await a.call("POST", `/api/v1/registries/${id}/verify`)).status).toBe(200);
      expect((await a.call("GET", `/api/v1/registries/${id}`)).json.data.verified).toBe(true);
      await a.call("PATCH", `/api/v1/registries/${id}`, { password: "wrong" });
      const r = await a.call("POST", `/api/v1/registries/${id}/verify`);
      expect(r.status).toBe(422);
      expect(r.json.error.code).toBe("registry_auth_failed");
      expect((await a.call("GET", `/api/v1/registries/${id}`)).json.data.verified).toBe(false);
    });

    test(`${kind}: repos (q, limit) with tag counts; tags of a slashed repo with digest and size`, async () => {
      const a = await fakeApp(ENV);
      const id = (await a.call("POST", "/api/v1/registries", body({ registry_url: reg.url }))).json.data.id;
      expect((await a.call("GET", `/api/v1/registries/${id}/repos`)).json.data).toEqual([
        { name: "team/api", tag_count: 1 },
        { name: "team/app", tag_count: 2 },
        { name: "tools", tag_count: 1 },
      ]);
      expect((await a.call("GET", `/api/v1/registries/${id}/repos?q=app&limit=5`)).json.data).toEqual([
        { name: "team/app", tag_count: 2 },
      ]);
      expect((await a.call("GET", `/api/v1/registries/${id}/repos?limit=1`)).json.data).toHaveLength(1);
      const t = await a.call("GET", `/api/v1/registries/${id}/repos/team/app/tags`);
      expect(t.status).toBe(200);
      const digest = (s: string) => `sha256:${createHash("sha256").update(s).digest("hex")}`;
      expect(t.json.data).toEqual([
        { name: "latest", digest: digest(manifest(1)), size: 100 + 1000 + 2000 },
        { name: "v1.2.3", digest: digest(manifest(2)), size: 200 + 1000 + 4000 },
      ]);
      expect((await a.call("GET", `/api/v1/registries/${id}/repos/tools/tags`)).json.data[0]).toMatchObject({
        name: "1",
        size: 300 + 1000 + 6000,
      });
      expect((await a.call("GET", `/api/v1/registries/${id}/repos/team/nope/tags`)).status).toBe(404);
    });
  }

  test("bad repo paths → 400 naming repo, the registry never asked", async () => {
    const a = await fakeApp(ENV);
    const id = (await a.call("POST", "/api/v1/registries", body())).json.data.id;
    const n = basicReg.requests.length;
    for (const p of [
      "team/..%2Fx/tags",
      "..%2F..%2Fetc/tags",
      "Team/App/tags",
      "team/app",
      "team/app/tagz",
      "%ZZ/tags",
      "team//app/tags",
    ]) {
      const r = await a.call("GET", `/api/v1/registries/${id}/repos/${p}`);
      expect([p, r.status, r.json?.error?.details?.field]).toEqual([p, 400, "repo"]);
    }
    expect((await a.call("GET", `/api/v1/registries/${id}/repos?limit=0`)).status).toBe(400);
    expect(basicReg.requests.length).toBe(n);
  });

  test("challenges parse; Docker Hub's v1 URL maps to registry-1.docker.io and to docker.io images", () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
      ),
    ).toEqual({
      scheme: "bearer",
      params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/nginx:pull" },
    });
    expect(apiBase("https://index.docker.io/v1/")).toBe("https://registry-1.docker.io");
    expect(credentialHost("https://index.docker.io/v1/")).toBe("docker.io");
    expect(credentialHost("https://registry.example.com:5000/")).toBe("registry.example.com:5000");
    for (const [ref, host] of [
      ["nginx", "docker.io"],
      ["acme/app:1", "docker.io"],
      ["docker.io/acme/app", "docker.io"],
      ["registry.example.com:5000/team/app:1", "registry.example.com:5000"],
      ["localhost/app", "localhost"],
    ]) {
      expect(registryHost(ref!)).toBe(host!);
    }
  });
});

describe("pulling with the credential", () => {
  test("an image tenant on the credential's host pulls with it (always, not from cache); the password stays out of events and logs", async () => {
    const a = await fakeApp(ENV);
    const ref = `${basicReg.host}/team/app:latest`;
    const seen: Array<RegistryAuth | undefined> = [];
    const pull = a.runtime.pullImage.bind(a.runtime);
    a.runtime.pullImage = (r, auth, onLog) => (seen.push(auth), pull(r, auth, onLog));
    a.runtime.images.set(ref, "sha256:" + "e".repeat(64)); // cached locally: must still be pulled with the credential
    await a.call("POST", "/api/v1/registries", body());
    const t = await a.call("POST", "/api/v1/tenants", { name: "imgtenant", source_type: "image", image_url: ref, app_port: 80 });
    expect(t.status).toBe(202);
    await a.idle();
    expect((await a.call("GET", `/api/v1/tenants/${t.json.data.id}`)).json.data.status).toBe("ready");
    expect(seen).toEqual([{ serveraddress: basicReg.host, username: USER, password: PASS }]);
    expect(
      JSON.stringify(a.ctx.db.query("SELECT * FROM events").all()) +
        JSON.stringify(a.ctx.db.query("SELECT * FROM deployments").all()),
    ).not.toContain(PASS);
    // Another provider's or mode's credential is never used.
    expect(registryAuthFor(a.ctx, a.provider.id, "test", ref)).toBeUndefined();
    expect(registryAuthFor(a.ctx, "prv_other", "live", ref)).toBeUndefined();
    expect(registryAuthFor(a.ctx, a.provider.id, "live", "registry.example.com/team/app")).toBeUndefined();
  });
});
