// Host isolation on real iptables and Docker: a container on a tenant network cannot open connections to the
// host's API port or Caddy's admin port (through its gateway), other host ports and Caddy -> container still work.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { containerSpec } from "../../src/runtime/container-spec.ts";
import { createFirewall } from "../../src/runtime/firewall.ts";
import { reapplyAllNetworkRules } from "../../src/core/network/rules.ts";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { testCtx } from "../support/ctx.ts";
import { BUSYBOX_IMAGE, dockerCli, dockerRuntime, ensureTestImages, removeByPrefix, uniqueName } from "../support/docker.ts";

const P = uniqueName("staxa-hi-test-") + "-";
const rt = dockerRuntime();
const fw = createFirewall();
// Ports come from the kernel (port 0), so they never collide with one in use (random picks in the
// ephemeral range did, in CI).
const PORT = { api: 0, admin: 0, other: 0, caddyHttp: 0 };
const listeners: Array<ReturnType<typeof Bun.serve>> = [];
let caddy: TestCaddy;
let web = { id: "", ip: "" };
let gateway = "";

/** A raw HTTP GET from inside the container with busybox nc (its static wget crashes in scratch images). */
async function fromContainer(ip: string, port: number): Promise<string> {
  const r = await dockerCli([
    "exec",
    web.id,
    "timeout",
    "4",
    "sh",
    "-c",
    `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} ${port}`,
  ]);
  return r.out;
}

beforeAll(async () => {
  await ensureTestImages();
  // Stand-ins for the API and Caddy's admin API listening on every address (the worst case the guard covers).
  for (const name of ["api", "admin", "other"] as const) {
    const server = Bun.serve({ hostname: "0.0.0.0", port: 0, fetch: () => new Response(`host-${name}`) });
    listeners.push(server);
    PORT[name] = server.port!;
  }
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  PORT.caddyHttp = probe.port!;
  probe.stop(true);
  await rt.ensureNetwork(`${P}net`, { "staxa.test": P });
  gateway = JSON.parse((await dockerCli(["network", "inspect", `${P}net`])).out)[0].IPAM.Config.find((c: { Gateway?: string }) =>
    c.Gateway?.includes("."),
  ).Gateway;
  const c = await rt.startContainer(
    containerSpec({
      tenant: P.slice("staxa-".length, -1),
      service: "web",
      deploymentId: "dep_hi000001",
      image: BUSYBOX_IMAGE,
      env: {},
      port: 3000,
      resourceSize: "small",
      network: `${P}net`,
      cmd: ["busybox", "httpd", "-f", "-p", "3000", "-h", "/etc"],
      user: "10001",
    }),
  );
  web = { id: c.id, ip: c.ip! };
  caddy = await startCaddy({ adminPort: 20000 + Math.floor(Math.random() * 1000) * 2 });
}, 60_000);

afterAll(async () => {
  await fw.remove(`host-${PORT.api}`).catch(() => undefined);
  await fw.remove(`host-${PORT.admin}`).catch(() => undefined);
  for (const l of listeners) l.stop(true);
  await caddy?.stop();
  await removeByPrefix(P);
}, 60_000);

describe("containers and the host", () => {
  test("before the guard the container reaches the host's ports (the test can tell a difference)", async () => {
    expect(await fromContainer(gateway, PORT.api)).toContain("host-api");
  }, 20_000);

  test("start-up re-application guards the API and Caddy admin ports; other ports stay reachable", async () => {
    const ctx = testCtx(
      { firewall: fw },
      { STAXA_PORT: String(PORT.api), STAXA_CADDY_ADMIN_URL: `http://127.0.0.1:${PORT.admin}` },
    );
    await reapplyAllNetworkRules(ctx);
    expect(await fw.listIds()).toEqual(expect.arrayContaining([`host-${PORT.api}`, `host-${PORT.admin}`]));
    expect(await fromContainer(gateway, PORT.api)).toBe("");
    expect(await fromContainer(gateway, PORT.admin)).toBe("");
    expect(await fromContainer(gateway, PORT.other)).toContain("host-other");
    // The host itself still reaches both (the guard is for the bridges only).
    expect(await (await fetch(`http://127.0.0.1:${PORT.api}/`)).text()).toBe("host-api");
  }, 30_000);

  test("no forwarded packet reaches the cloud metadata address", async () => {
    const r = Bun.spawnSync([
      "iptables",
      "-w",
      "-C",
      "DOCKER-USER",
      "-d",
      "169.254.169.254/32",
      "-m",
      "comment",
      "--comment",
      "staxa:metadata",
      "-j",
      "DROP",
    ]);
    expect(r.exitCode).toBe(0);
    const first = Bun.spawnSync(["iptables", "-w", "-S", "DOCKER-USER"])
      .stdout.toString()
      .split("\n")
      .find((l) => l.startsWith("-A"));
    expect(first).toContain("169.254.169.254");
  });

  test("Caddy -> container still works with the guard in place", async () => {
    const config = {
      admin: { listen: new URL(caddy.adminUrl).host },
      apps: {
        http: {
          servers: {
            hi: {
              listen: [`127.0.0.1:${PORT.caddyHttp}`],
              routes: [{ handle: [{ handler: "reverse_proxy", upstreams: [{ dial: `${web.ip}:3000` }] }] }],
            },
          },
        },
      },
    };
    const load = await fetch(`${caddy.adminUrl}/load`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(config),
    });
    expect(load.status).toBe(200);
    const res = await fetch(`http://127.0.0.1:${PORT.caddyHttp}/passwd`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("app:x:10001");
  }, 20_000);
});
