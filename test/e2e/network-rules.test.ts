// Network rules through the API against real Docker, iptables, Caddy and git: an inbound port to a TCP echo
// service admits only its source CIDRs, restricted egress reaches only the allowed destination (open reaches
// both, switched by PATCH without a redeploy), a TTL expiry by the scheduler closes the port, and the
// connection_string works from the server itself.
// Second source addresses and egress destinations live in network namespaces (veth pairs) created here.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { addNamespace, sh, testNamespace } from "../support/netns.ts";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { dockerCli, ensureTestImages, removeByPrefix, uniqueName, teardownE2e } from "../support/docker.ts";
import { e2eApp, fixtureRepo } from "../support/e2e-app.ts";
import { startNetworkRuleExpiry } from "../../src/scheduler/network-rules-job.ts";

const PREFIX = uniqueName("e2nr");
const R = Math.random().toString(36).slice(2, 6);
const OCTET = 10 + Math.floor(Math.random() * 200);
const ADMIN_PORT = 23000 + Math.floor(Math.random() * 400) * 2;
const POOL = 33000 + Math.floor(Math.random() * 300) * 3;
let caddy: TestCaddy;
let h: Awaited<ReturnType<typeof e2eApp>>;
const cleanup: string[] = [];
const servers: Array<ReturnType<typeof Bun.spawn>> = [];

/** A namespace whose veth peer is `<net>.2`, reached from the host at `<net>.1`. */
const ns = (name: string, third: number) => testNamespace(`staxa-nr-${R}-${name}`, `snr${R}${name[0]}`, 214, third);
const OK = ns("ok", OCTET);
const BAD = ns("bad", OCTET + 1);

/** Sends a line to host:port from inside a namespace and returns what came back (the echo, or nothing). */
const echoFromNs = (n: typeof OK, port: number) =>
  sh([
    "timeout",
    "4",
    "ip",
    "netns",
    "exec",
    n.name,
    "busybox",
    "sh",
    "-c",
    `echo ping-${n.name} | busybox nc -w 3 ${n.hostIp} ${port}`,
  ]);
/** Sends a line to host:port from the host itself (the server's own shell) and returns the echo, or nothing. */
const echoFromHost = (host: string, port: number) =>
  sh(["timeout", "4", "busybox", "sh", "-c", `echo ping-host | busybox nc -w 3 ${host} ${port}`]);
/** A raw HTTP GET from inside a tenant container with busybox nc. */
const getFromContainer = async (id: string, ip: string) =>
  (await dockerCli(["exec", id, "timeout", "4", "sh", "-c", `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} 8080`])).out;

async function tenant(name: string, egress: "open" | "restricted"): Promise<{ id: string; container: string }> {
  const repo = await fixtureRepo("ok", { cmd: ["sh", "-c", "httpd -p 3000 -h /www && exec nc -ll -p 5000 -e cat"] });
  cleanup.push(repo);
  const r = await h.call("POST", "/api/v1/tenants", {
    name,
    source_type: "github",
    repo_url: `file://${repo}`,
    app_port: 3000,
    egress_mode: egress,
  });
  expect(r.status).toBe(202);
  const t = r.json.data;
  await h.waitDeployment(t.id, t.deployments[0].id);
  expect((await h.call("GET", `/api/v1/tenants/${t.id}`)).json.data.status).toBe("ready");
  const container = (await dockerCli(["ps", "-q", "--filter", `label=staxa.tenant=${name}`])).out.trim();
  return { id: t.id, container };
}

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await Bun.sleep(200);
  }
  return false;
}

beforeAll(async () => {
  await ensureTestImages();
  await addNamespace(OK);
  await addNamespace(BAD);
  for (const n of [OK, BAD]) {
    const dir = join("/tmp", `${n.name}-www`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "index.html"), `${n.name}-server\n`);
    cleanup.push(dir);
    servers.push(
      Bun.spawn(["ip", "netns", "exec", n.name, "busybox", "httpd", "-f", "-p", "8080", "-h", dir], {
        stdout: "ignore",
        stderr: "ignore",
      }),
    );
  }
  caddy = await startCaddy({ adminPort: ADMIN_PORT });
  h = await e2eApp({
    STAXA_BASE_DOMAIN: "e2e-nr.test",
    STAXA_PUBLIC_SCHEME: "http",
    STAXA_HTTP_PORT: String(ADMIN_PORT + 1),
    STAXA_HTTPS_PORT: String(ADMIN_PORT + 801),
    STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
    STAXA_ALLOW_FILE_REPOS: "1",
    STAXA_DRAIN_SEC: "0",
    STAXA_HEALTH_TIMEOUT_SEC: "10",
    STAXA_PORT_POOL: `${POOL}-${POOL + 2}`,
    STAXA_PUBLIC_IP: "127.0.0.1",
  });
  cleanup.push(h.dataDir);
}, 120_000);

afterAll(async () => {
  for (const t of (await h?.call("GET", "/api/v1/tenants"))?.json?.data ?? []) {
    for (const r of (await h.call("GET", `/api/v1/tenants/${t.id}/network-rules?status=all`)).json.data)
      await h.ctx.firewall!.remove(r.id).catch(() => undefined);
    await h.ctx.firewall!.remove(`egress-${t.id}`).catch(() => undefined);
  }
  for (const s of servers) s.kill();
  await Promise.all(servers.map((s) => s.exited));
  for (const n of [OK, BAD]) await sh(["ip", "netns", "del", n.name]);
  await teardownE2e(PREFIX, caddy, cleanup);
}, 60_000);

describe("inbound rules", () => {
  let t = { id: "", container: "" };
  let rule: any;

  test("an inbound rule to the TCP echo service admits the allowed source and refuses another", async () => {
    t = await tenant(`${PREFIX}-in`, "open");
    const r = await h.call("POST", `/api/v1/tenants/${t.id}/network-rules`, {
      direction: "inbound",
      protocol: "tcp",
      target_service: "web",
      target_port: 5000,
      source_cidrs: [`${OK.ip}/32`],
      ttl_hours: 1,
    });
    expect(r.status).toBe(201);
    rule = r.json.data;
    expect(rule.allocated_port).toBe(POOL);
    expect(rule.connection_string).toBe(`127.0.0.1:${POOL}`);
    expect((await echoFromNs(OK, POOL)).out).toBe(`ping-${OK.name}\n`);
    expect((await echoFromNs(BAD, POOL)).out).toBe("");
  }, 120_000);

  test("after a redeploy (new container IP) the port forwards to the new container", async () => {
    const before = t.container;
    const d = await h.call("POST", `/api/v1/tenants/${t.id}/deploy`);
    expect(d.status).toBe(202);
    await h.waitDeployment(t.id, d.json.meta.deployment_ids[0]);
    const after = (await dockerCli(["ps", "-q", "--filter", `label=staxa.tenant=${PREFIX}-in`])).out.trim();
    expect(after).not.toBe(before);
    expect(after).not.toBe("");
    expect((await echoFromNs(OK, POOL)).out).toBe(`ping-${OK.name}\n`);
  }, 120_000);

  test("the connection_string works from the server itself (127.0.0.1 and the host's other addresses), as Docker's published ports do", async () => {
    expect(rule.connection_string).toBe(`127.0.0.1:${POOL}`);
    // The allow-list is for other machines: the host reaches its containers' bridges directly anyway.
    expect((await echoFromHost("127.0.0.1", POOL)).out).toBe("ping-host\n");
    expect((await echoFromHost(OK.hostIp, POOL)).out).toBe("ping-host\n");
    // A port with no rule stays closed from the host too.
    expect((await echoFromHost("127.0.0.1", POOL + 2)).out).toBe("");
  }, 30_000);

  test("TTL expiry by the scheduler with its clock advanced: the port stops admitting and the rule shows expired", async () => {
    const stop = startNetworkRuleExpiry({ ...h.ctx, now: () => new Date(Date.now() + 2 * 3_600_000) });
    try {
      const expired = await until(
        async () => (await h.call("GET", `/api/v1/tenants/${t.id}/network-rules/${rule.id}`)).json.data.status === "expired",
        15_000,
      );
      expect(expired).toBe(true);
    } finally {
      stop();
    }
    expect((await echoFromNs(OK, POOL)).out).toBe("");
    expect(await h.ctx.firewall!.listIds()).not.toContain(rule.id);
    const again = await h.call("POST", `/api/v1/tenants/${t.id}/network-rules`, {
      direction: "inbound",
      protocol: "tcp",
      target_service: "web",
      target_port: 5000,
      source_cidrs: [`${OK.ip}/32`],
    });
    expect(again.json.data.allocated_port).toBe(POOL);
    const del = await h.call("DELETE", `/api/v1/tenants/${t.id}/network-rules/${again.json.data.id}`);
    expect(del.status).toBe(204);
    expect((await echoFromNs(OK, POOL)).out).toBe("");
  }, 60_000);
});

describe("outbound rules", () => {
  test("restricted egress reaches only the allowed destination; PATCH to open reaches both at once", async () => {
    const t = await tenant(`${PREFIX}-out`, "restricted");
    expect(await getFromContainer(t.container, OK.ip)).toBe("");
    const r = await h.call("POST", `/api/v1/tenants/${t.id}/network-rules`, {
      direction: "outbound",
      protocol: "tcp",
      destination_cidrs: [`${OK.ip}/32`],
      destination_port: 8080,
    });
    expect(r.status).toBe(201);
    expect(await getFromContainer(t.container, OK.ip)).toContain(`${OK.name}-server`);
    expect(await getFromContainer(t.container, BAD.ip)).toBe("");
    const p = await h.call("PATCH", `/api/v1/tenants/${t.id}`, { egress_mode: "open" });
    expect(p.json.meta.effect).toBe("none");
    expect(await until(async () => (await getFromContainer(t.container, BAD.ip)).includes(`${BAD.name}-server`), 10_000)).toBe(
      true,
    );
    expect(await getFromContainer(t.container, OK.ip)).toContain(`${OK.name}-server`);
    const same = (await dockerCli(["ps", "-q", "--filter", `label=staxa.tenant=${PREFIX}-out`])).out.trim();
    expect(same).toBe(t.container);
  }, 120_000);
});
