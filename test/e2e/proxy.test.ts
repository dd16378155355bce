// The proxy against a real Caddy and a real resolver process: routing, switching, replicas, removal, restarts,
// on-demand TLS through the resolver's ask endpoint, and a Caddy config that no route change ever touches.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type PeerCertificate } from "node:tls";
import { networkInterfaces, tmpdir } from "node:os";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { request } from "node:https";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { startResolver, type TestResolver } from "../support/resolver.ts";
import { testConfig } from "../support/ctx.ts";
import { openDb, migrate, type Db } from "../../src/store/db.ts";
import { createCaddyProxy } from "../../src/proxy/caddy.ts";
import { probeTls } from "../../src/proxy/tls-probe.ts";
import type { Proxy } from "../../src/proxy/types.ts";

const ADMIN = 23201,
  HTTP = 23280,
  HTTPS = 23243;
const dataDir = mkdtempSync(join(tmpdir(), "staxa-e2e-proxy-"));
const env = {
  STAXA_DATA_DIR: dataDir,
  STAXA_CADDY_ADMIN_URL: `http://127.0.0.1:${ADMIN}`,
  STAXA_HTTP_PORT: String(HTTP),
  STAXA_HTTPS_PORT: String(HTTPS),
  STAXA_ACME_CA: "internal",
  STAXA_PUBLIC_SCHEME: "https",
  STAXA_LOG_LEVEL: "error",
};

let caddy: TestCaddy;
let resolver: TestResolver;
let db: Db;
let proxy: Proxy;
const config = () => testConfig({ ...env, STAXA_RESOLVER_PORT: String(resolver.port) });
const upstreams = ["one", "two", "three"].map((body) =>
  Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(`hello from ${body}`) }),
);
const up = (i: number) => `127.0.0.1:${upstreams[i]!.port}`;
const get = (host: string, path = "/") =>
  fetch(`https://127.0.0.1:${HTTPS}${path}`, { headers: { host }, tls: { rejectUnauthorized: false, serverName: host } });
const getHttp = (host: string, path = "/") => fetch(`http://127.0.0.1:${HTTP}${path}`, { headers: { host }, redirect: "manual" });
const text = async (r: Promise<Response>) => {
  const res = await r;
  return `${res.status} ${await res.text()}`;
};
const configText = async () => (await fetch(`${caddy.adminUrl}/config/`)).text();

beforeAll(async () => {
  caddy = await startCaddy({ adminPort: ADMIN, httpPort: HTTP, httpsPort: HTTPS });
  db = openDb(join(dataDir, "staxa.db"));
  migrate(db);
  resolver = await startResolver(env);
  proxy = createCaddyProxy(config(), db);
});
afterAll(async () => {
  await resolver?.kill();
  await caddy?.stop();
  for (const u of upstreams) u.stop(true);
  db?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("routing through Caddy", () => {
  test("init twice is idempotent and the second one does not reload Caddy", async () => {
    await proxy.init();
    const before = await configText();
    await proxy.init();
    expect(await configText()).toBe(before);
    expect(await proxy.listRoutes()).toEqual([]);
  }, 20_000);

  test("a routed host reaches its upstream as soon as setRoute returns; an unknown host gets the catch-all 404", async () => {
    await proxy.setRoute({ id: "a.web", hosts: ["a.staxa.test"], upstream: up(0), tls: true });
    expect(await text(get("a.staxa.test"))).toBe("200 hello from one");
    expect(await text(getHttp("nobody.staxa.test"))).toBe("404 no tenant is served at this host\n");
    expect(await text(getHttp("bad_host!"))).toBe("404 no tenant is served at this host\n");
    expect([proxy.hasHost("a.staxa.test"), proxy.hasHost("nobody.staxa.test")]).toEqual([true, false]);
  }, 20_000);

  test("a switch serves the new upstream, for requests already cached by Caddy too, once setRoute returns", async () => {
    expect(await text(get("a.staxa.test"))).toBe("200 hello from one"); // Caddy now holds this answer
    await proxy.setRoute({ id: "a.web", hosts: ["a.staxa.test"], upstream: up(1), tls: true });
    expect(await text(get("a.staxa.test"))).toBe("200 hello from two");
    expect(await proxy.listRoutes()).toEqual([{ id: "a.web", hosts: ["a.staxa.test"], upstream: up(1), tls: true }]);
  }, 20_000);

  test("a tls route redirects plain HTTP to HTTPS, path and query kept", async () => {
    const res = await getHttp("a.staxa.test", "/x?y=1");
    expect([res.status, res.headers.get("location")]).toEqual([308, `https://a.staxa.test:${HTTPS}/x?y=1`]);
  }, 20_000);

  test("a route with replicas spreads requests over all of them", async () => {
    await proxy.setRoute({ id: "r.web", hosts: ["r.staxa.test"], upstream: up(0), upstreams: [up(1), up(2)], tls: true });
    const seen = new Set<string>();
    // Caddy keeps one lookup answer for a second and picks among its upstreams at random per request.
    for (let i = 0; i < 60; i++) seen.add(await text(get("r.staxa.test")));
    expect([...seen].sort()).toEqual(["200 hello from one", "200 hello from three", "200 hello from two"]);
  }, 20_000);

  test("routes outlive the appliance: a new proxy on the same store reports them", async () => {
    const again = createCaddyProxy(config(), db);
    await again.init();
    expect(again.hasHost("a.staxa.test")).toBe(true);
    expect((await again.listRoutes()).map((r) => r.id)).toEqual(["a.web", "r.web"]);
  }, 20_000);

  test("concurrent changes all land", async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        proxy.setRoute({ id: `c${i}.web`, hosts: [`c${i}.staxa.test`], upstream: up(0), tls: true }),
      ),
    );
    expect((await proxy.listRoutes()).length).toBe(22);
    expect(await text(get("c7.staxa.test"))).toBe("200 hello from one");
    await Promise.all(Array.from({ length: 20 }, (_, i) => proxy.removeRoute(`c${i}.web`)));
    expect((await proxy.listRoutes()).map((r) => r.id)).toEqual(["a.web", "r.web"]);
  }, 30_000);

  test("removeRoute stops serving the host at once; removing an unknown id is fine", async () => {
    expect(await text(get("r.staxa.test"))).toContain("200 hello from");
    await proxy.removeRoute("r.web");
    await proxy.removeRoute("never.existed");
    expect(await text(getHttp("r.staxa.test"))).toBe("404 no tenant is served at this host\n");
    expect(proxy.hasHost("r.staxa.test")).toBe(false);
  }, 20_000);

  test("syncRoutes sets the whole table in one change", async () => {
    await proxy.syncRoutes([
      { id: "s.web", hosts: ["s.staxa.test"], upstream: up(0), tls: true },
      { id: "a.web", hosts: ["a.staxa.test"], upstream: up(1), tls: true },
    ]);
    expect((await proxy.listRoutes()).map((r) => r.id)).toEqual(["a.web", "s.web"]);
    expect(await text(get("s.staxa.test"))).toBe("200 hello from one");
  }, 20_000);

  test("Caddy's config is the same, byte for byte, across 100 route switches", async () => {
    const before = await configText();
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) await proxy.setRoute({ id: "a.web", hosts: ["a.staxa.test"], upstream: up(i % 2), tls: true });
    console.log(`100 route switches: ${((performance.now() - t0) / 100).toFixed(2)} ms each (no request in between)`);
    expect(await configText()).toBe(before);
    expect(await text(get("a.staxa.test"))).toBe("200 hello from two");
  }, 60_000);
});

describe("on-demand TLS through the resolver's ask endpoint", () => {
  const ask = (base: string, host: string) => fetch(`${base}/ask?domain=${host}`).then((r) => r.status);

  test("ask: 200 for a routed host, 404 for an unknown one; it listens on loopback only", async () => {
    const base = `http://127.0.0.1:${resolver.port}`;
    expect([await ask(base, "a.staxa.test"), await ask(base, "A.STAXA.TEST"), await ask(base, "evil.example.com")]).toEqual([
      200, 200, 404,
    ]);
    const lan = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === "IPv4" && !i.internal);
    expect(lan).toBeDefined();
    await expect(ask(`http://${lan!.address}:${resolver.port}`, "a.staxa.test")).rejects.toThrow();
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
      const req = request(
        { host: "127.0.0.1", port: HTTPS, servername: "a.staxa.test", headers: { host: "a.staxa.test" }, ca: root, path: "/" },
        (res) => {
          let t = "";
          res.on("data", (c) => (t += c));
          res.on("end", () => resolve(`${res.statusCode} ${t}`));
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(body).toBe("200 hello from two");
    const probe = await probeTls({ host: "127.0.0.1", port: HTTPS, servername: "a.staxa.test" });
    expect(probe.ok && [probe.issuerCn.startsWith("Caddy Local Authority"), probe.altNames, probe.notAfter > new Date()]).toEqual(
      [true, ["a.staxa.test"], true],
    );
  }, 30_000);

  test("a host nobody routes gets no certificate", async () => {
    await expect(handshake("evil.staxa.test")).rejects.toThrow();
    expect((await probeTls({ host: "127.0.0.1", port: HTTPS, servername: "evil.staxa.test" })).ok).toBe(false);
    expect([
      existsSync(join(caddy.dataDir, "certificates/local/a.staxa.test")),
      existsSync(join(caddy.dataDir, "certificates/local/evil.staxa.test")),
    ]).toEqual([true, false]);
  }, 20_000);
});

describe("the resolver is the data plane", () => {
  test("it answers DNS on loopback only", async () => {
    const lan = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === "IPv4" && !i.internal)!;
    const dns = await import("dns-packet");
    const q = dns.encode({ type: "query", id: 7, questions: [{ type: "SRV", name: "a.staxa.test.route.staxa.internal" }] });
    const asked = async (host: string) => {
      let got = false;
      const sock = await Bun.udpSocket({ socket: { data: () => void (got = true), error: () => {} } });
      sock.send(q, resolver.port, host);
      await Bun.sleep(300);
      sock.close();
      return got;
    };
    expect([await asked("127.0.0.1"), await asked(lan.address)]).toEqual([true, false]);
  }, 20_000);

  test("a route written to the store by another process is served without any call to the resolver", async () => {
    const script = `
      import { openDb } from "${join(import.meta.dir, "../../src/store/db.ts")}";
      import { setRoute } from "${join(import.meta.dir, "../../src/store/proxy-routes.ts")}";
      setRoute(openDb(${JSON.stringify(join(dataDir, "staxa.db"))}), { id: "o.web", hosts: ["o.staxa.test"], upstreams: ["${up(2)}"], tls: true }, Date.now());
    `;
    expect(Bun.spawnSync([process.execPath, "-e", script]).exitCode).toBe(0);
    const t0 = Date.now();
    let got = "";
    // Polled: the resolver follows the store on its own (every 100 ms); until then the host has no certificate.
    while (Date.now() - t0 < 2000 && got !== "200 hello from three")
      got = await text(get("o.staxa.test")).catch((e) => String(e));
    expect(got).toBe("200 hello from three");
  }, 20_000);
});
