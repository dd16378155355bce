// New routes are served through Caddy's lookup of the appliance's DNS responder before (and without) their table row.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { testConfig } from "../support/ctx.ts";
import { createCaddyProxy } from "../../src/proxy/caddy.ts";
import { DNS_ID, DNS_NAME_PATH, MAPPINGS_PATH } from "../../src/proxy/config.ts";
import { srvName } from "../../src/proxy/dns-responder.ts";

const ADMIN = 23211, HTTP = 23290, HTTPS = 23253;
const config = testConfig({
  STAXA_CADDY_ADMIN_URL: `http://127.0.0.1:${ADMIN}`, STAXA_HTTP_PORT: String(HTTP), STAXA_HTTPS_PORT: String(HTTPS),
  STAXA_PORT: "23297", STAXA_ACME_CA: "internal", STAXA_PUBLIC_SCHEME: "http",
});

let caddy: TestCaddy;
const upstreams = ["one", "two"].map((body) => Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(`hello from ${body}`) }));
const up = (i: number) => `127.0.0.1:${upstreams[i]!.port}`;
const get = (host: string) => fetch(`http://127.0.0.1:${HTTP}/`, { headers: { host } }).then(async (r) => `${r.status} ${await r.text()}`);
const tableHosts = async () => ((await (await fetch(caddy.adminUrl + MAPPINGS_PATH)).json()) as Array<{ input: string }>).map((m) => m.input);
/** The lookup name (with its generation) in Caddy's config. */
const dnsName = async () => (await (await fetch(caddy.adminUrl + DNS_NAME_PATH)).json()) as string;
/** Takes a host's row out of Caddy's table behind the proxy's back: from then on only the lookup can serve it. */
const dropRow = (host: string) => fetch(`${caddy.adminUrl}/id/staxa-host-${host}`, { method: "DELETE" }).then((r) => expect(r.status).toBe(200));

beforeAll(async () => {
  caddy = await startCaddy({ adminPort: ADMIN, httpPort: HTTP });
});
afterAll(async () => {
  await caddy?.stop();
  for (const u of upstreams) u.stop(true);
});

describe("routes served through the lookup", () => {
  const proxy = createCaddyProxy(config);

  test("a new route answers as soon as setRoute returns, and its row reaches Caddy's table", async () => {
    await proxy.init();
    await proxy.setRoute({ id: "n.web", hosts: ["n.staxa.test"], upstream: up(0), tls: false });
    expect(await get("n.staxa.test")).toBe("200 hello from one");
    expect((await proxy.listRoutes()).map((r) => r.id)).toEqual(["n.web"]);
    expect(await tableHosts()).toEqual(["n.staxa.test"]);
  }, 20_000);

  test("a host missing from Caddy's table is still served from the appliance's memory", async () => {
    await dropRow("n.staxa.test");
    expect(await tableHosts()).toEqual([]);
    expect(await get("n.staxa.test")).toBe("200 hello from one");
  }, 20_000);

  test("an unknown host is the catch-all 404", async () => {
    expect(await get("nobody.staxa.test")).toBe("404 no tenant is served at this host\n");
  }, 20_000);

  test("removing a route served by lookup empties Caddy's lookup cache: the host is gone at once", async () => {
    await proxy.setRoute({ id: "r.web", hosts: ["r.staxa.test"], upstream: up(1), tls: false });
    await proxy.listRoutes();
    await dropRow("r.staxa.test");
    // Served (and cached by Caddy for minutes) through the lookup only.
    expect(await get("r.staxa.test")).toBe("200 hello from two");
    const before = await dnsName();
    await proxy.removeRoute("r.web");
    expect(await get("r.staxa.test")).toBe("404 no tenant is served at this host\n");
    expect(await dnsName()).not.toBe(before);
    expect(proxy.hasHost("r.staxa.test")).toBe(false);
  }, 20_000);

  test("removing a route Caddy never looked up changes no generation: the removal is one reload, not two", async () => {
    await proxy.setRoute({ id: "q.web", hosts: ["q.staxa.test"], upstream: up(1), tls: false });
    await proxy.listRoutes(); // its row is in the table; no request ever asked the responder for it
    const before = await dnsName();
    await proxy.removeRoute("q.web");
    expect(await dnsName()).toBe(before);
    expect(await get("q.staxa.test")).toBe("404 no tenant is served at this host\n");
  }, 20_000);

  test("many new routes at once are all served and all reach Caddy's table", async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `m${i}`);
    await Promise.all(ids.map((id) => proxy.setRoute({ id: `${id}.web`, hosts: [`${id}.staxa.test`], upstream: up(0), tls: false })));
    expect(new Set(await Promise.all(ids.map((id) => get(`${id}.staxa.test`))))).toEqual(new Set(["200 hello from one"]));
    await proxy.listRoutes();
    expect((await tableHosts()).filter((h) => h.startsWith("m")).sort()).toEqual(ids.map((id) => `${id}.staxa.test`).sort());
  }, 20_000);

  test("the responder answers on loopback only", async () => {
    const [address] = (await (await fetch(`${caddy.adminUrl}/id/${DNS_ID}/handle/0/dynamic_upstreams/resolver/addresses`)).json()) as string[];
    const port = Number(/^udp\/127\.0\.0\.1:(\d+)$/.exec(address!)![1]);
    const lan = Object.values(networkInterfaces()).flat().find((i) => i && i.family === "IPv4" && !i.internal)!;
    const q = [0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for (const l of srvName(1, "n.staxa.test").split(".").filter(Boolean)) q.push(l.length, ...[...l].map((c) => c.charCodeAt(0)));
    q.push(0, 0, 33, 0, 1);
    const ask = async (host: string) => {
      let got = false;
      // "connection refused" (ICMP port unreachable) is what a closed port answers: not an answer.
      const sock = await Bun.udpSocket({ socket: { data: () => void (got = true), error: () => {} } });
      sock.send(new Uint8Array(q), port, host);
      await Bun.sleep(300);
      sock.close();
      return got;
    };
    expect([await ask("127.0.0.1"), await ask(lan.address)]).toEqual([true, false]);
  }, 20_000);
});
