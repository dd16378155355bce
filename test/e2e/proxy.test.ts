// The Caddy proxy against a real Caddy: routing, switching, removal, restarts, and on-demand TLS through the ask endpoint.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type PeerCertificate } from "node:tls";
import { networkInterfaces } from "node:os";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { request } from "node:https";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { testApp, testConfig } from "../support/ctx.ts";
import { createCaddyProxy } from "../../src/proxy/caddy.ts";
import { probeTls } from "../../src/proxy/tls-probe.ts";

const ADMIN = 23201, HTTP = 23280, HTTPS = 23243, API = 23299;
const env = {
  STAXA_CADDY_ADMIN_URL: `http://127.0.0.1:${ADMIN}`, STAXA_HTTP_PORT: String(HTTP), STAXA_HTTPS_PORT: String(HTTPS),
  STAXA_PORT: String(API), STAXA_ACME_CA: "internal", STAXA_PUBLIC_SCHEME: "https",
};
const config = testConfig(env);

let caddy: TestCaddy;
const upstreams = ["one", "two"].map((body) => Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(`hello from ${body}`) }));
const up = (i: number) => `127.0.0.1:${upstreams[i]!.port}`;
const get = (host: string, path = "/") => fetch(`http://127.0.0.1:${HTTP}${path}`, { headers: { host }, redirect: "manual" });

beforeAll(async () => {
  caddy = await startCaddy({ adminPort: ADMIN, httpPort: HTTP, httpsPort: HTTPS });
});
afterAll(async () => {
  await caddy?.stop();
  for (const u of upstreams) u.stop(true);
});

describe("routing through Caddy", () => {
  const proxy = createCaddyProxy(config);

  test("init twice is idempotent and the second one does not reload Caddy", async () => {
    await proxy.init();
    const before = await (await fetch(`${caddy.adminUrl}/config/`)).text();
    await proxy.init();
    expect(await (await fetch(`${caddy.adminUrl}/config/`)).text()).toBe(before);
    expect(await proxy.listRoutes()).toEqual([]);
  }, 20_000);

  test("a routed host reaches its upstream; an unknown host gets the catch-all 404", async () => {
    await proxy.setRoute({ id: "a.web", hosts: ["a.staxa.test"], upstream: up(0), tls: false });
    const res = await get("a.staxa.test");
    expect([res.status, await res.text()]).toEqual([200, "hello from one"]);
    const other = await get("nobody.staxa.test");
    expect([other.status, await other.text()]).toEqual([404, "no tenant is served at this host\n"]);
    expect(proxy.hasHost("a.staxa.test")).toBe(true);
    expect(proxy.hasHost("nobody.staxa.test")).toBe(false);
  }, 20_000);

  test("switching the upstream serves the new one", async () => {
    await proxy.setRoute({ id: "a.web", hosts: ["a.staxa.test"], upstream: up(1), tls: false });
    expect(await (await get("a.staxa.test")).text()).toBe("hello from two");
    expect(await proxy.listRoutes()).toEqual([{ id: "a.web", hosts: ["a.staxa.test"], upstream: up(1), tls: false }]);
  }, 20_000);

  test("a tls route redirects plain HTTP to HTTPS", async () => {
    await proxy.setRoute({ id: "a.web", hosts: ["a.staxa.test"], upstream: up(1), tls: true });
    const res = await get("a.staxa.test", "/x?y=1");
    expect([res.status, res.headers.get("location")]).toEqual([308, `https://a.staxa.test:${HTTPS}/x?y=1`]);
  }, 20_000);

  test("routes survive a restart of the appliance: a new proxy's init keeps and reports them", async () => {
    const again = createCaddyProxy(config);
    expect(again.hasHost("a.staxa.test")).toBe(false);
    await again.init();
    expect(again.hasHost("a.staxa.test")).toBe(true);
    expect((await again.listRoutes()).map((r) => r.id)).toEqual(["a.web"]);
  }, 20_000);

  test("concurrent changes all land (one at a time, none lost)", async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => proxy.setRoute({ id: `c${i}.web`, hosts: [`c${i}.staxa.test`], upstream: up(0), tls: false })));
    expect((await proxy.listRoutes()).length).toBe(21);
    await Promise.all(Array.from({ length: 20 }, (_, i) => proxy.removeRoute(`c${i}.web`)));
    expect((await proxy.listRoutes()).map((r) => r.id)).toEqual(["a.web"]);
  }, 30_000);

  test("a Caddy that lost its config gets the base config and the table back on the next change", async () => {
    await fetch(`${caddy.adminUrl}/load`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ admin: { listen: `127.0.0.1:${ADMIN}` } }) });
    await proxy.setRoute({ id: "b.web", hosts: ["b.staxa.test"], upstream: up(0), tls: false });
    expect(await (await get("b.staxa.test")).text()).toBe("hello from one");
    expect((await proxy.listRoutes()).map((r) => r.id).sort()).toEqual(["a.web", "b.web"]);
  }, 20_000);

  test("removeRoute stops serving the host; removing an unknown id is fine", async () => {
    await proxy.removeRoute("b.web");
    await proxy.removeRoute("never.existed");
    expect((await get("b.staxa.test")).status).toBe(404);
    expect(proxy.hasHost("b.staxa.test")).toBe(false);
  }, 20_000);

  test("syncRoutes sets the whole table in one change", async () => {
    await proxy.syncRoutes([{ id: "s.web", hosts: ["s.staxa.test"], upstream: up(0), tls: false }, { id: "a.web", hosts: ["a.staxa.test"], upstream: up(1), tls: true }]);
    expect((await proxy.listRoutes()).map((r) => r.id)).toEqual(["s.web", "a.web"]);
    expect(await (await get("s.staxa.test")).text()).toBe("hello from one");
  }, 20_000);
});

describe("on-demand TLS through the ask endpoint", () => {
  const proxy = createCaddyProxy(config);
  const { app } = testApp({ proxy }, env);

  beforeAll(async () => {
    app.listen({ port: API, hostname: "0.0.0.0" });
    await proxy.init();
    await proxy.setRoute({ id: "a.web", hosts: ["a.staxa.test"], upstream: up(0), tls: true });
  });
  afterAll(async () => {
    await app.stop();
  });

  const ask = (base: string, host: string) => fetch(`${base}/internal/tls/ask?domain=${host}`).then((r) => r.status);

  test("ask: 200 for a routed host, 404 for an unknown one, refused from a non-loopback address", async () => {
    expect(await ask(`http://127.0.0.1:${API}`, "a.staxa.test")).toBe(200);
    expect(await ask(`http://127.0.0.1:${API}`, "evil.example.com")).toBe(404);
    const lan = Object.values(networkInterfaces()).flat().find((i) => i && i.family === "IPv4" && !i.internal);
    expect(lan).toBeDefined();
    expect(await ask(`http://${lan!.address}:${API}`, "a.staxa.test")).toBe(403);
  }, 20_000);

  const handshake = (servername: string) =>
    new Promise<PeerCertificate>((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port: HTTPS, servername, rejectUnauthorized: false }, () => {
        const cert = s.getPeerCertificate();
        s.end();
        // Bun calls back even when the server ends the handshake with an alert: no certificate means none was served.
        if (!cert?.raw) reject(new Error(`no certificate served for ${servername}`));
        else resolve(cert);
      });
      s.on("error", reject);
      s.setTimeout(10_000, () => s.destroy(new Error("handshake timeout")));
    });

  test("a routed host gets a certificate from Caddy's CA and the app over verified HTTPS", async () => {
    const cert = await handshake("a.staxa.test");
    expect(cert.subjectaltname).toBe("DNS:a.staxa.test");
    expect(cert.issuer.CN).toContain("Caddy Local Authority");
    const root = readFileSync(join(caddy.dataDir, "pki/authorities/local/root.crt"));
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: HTTPS, servername: "a.staxa.test", headers: { host: "a.staxa.test" }, ca: root, path: "/" }, (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve(`${res.statusCode} ${text}`));
      });
      req.on("error", reject);
      req.end();
    });
    expect(body).toBe("200 hello from one");
    const probe = await probeTls({ host: "127.0.0.1", port: HTTPS, servername: "a.staxa.test" });
    expect(probe.ok && [probe.issuerCn.startsWith("Caddy Local Authority"), probe.altNames, probe.notAfter > new Date()]).toEqual([true, ["a.staxa.test"], true]);
  }, 30_000);

  test("a host nobody routes gets no certificate", async () => {
    await expect(handshake("evil.staxa.test")).rejects.toThrow();
    expect((await probeTls({ host: "127.0.0.1", port: HTTPS, servername: "evil.staxa.test" })).ok).toBe(false);
    // Caddy's storage holds the routed host's certificate and nothing for the refused one.
    expect([existsSync(join(caddy.dataDir, "certificates/local/a.staxa.test")), existsSync(join(caddy.dataDir, "certificates/local/evil.staxa.test"))]).toEqual([true, false]);
  }, 20_000);
});
