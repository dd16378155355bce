// Network rules and isolation on every swarm node (issue 21 point 7), with the node agent (`staxa agent`) running in
// each lab node's namespace. Tenants A and B have a task on each node. Without agents, A's task on the worker reaches
// B's task on the manager at <manager>:<published port> (the hole); with them it reaches neither that nor B's overlay
// address nor the appliance's host, while A's own overlay and Caddy (for B) still work. An inbound rule of A allowing
// only the host's bridge address answers through the WORKER's address from the host and is refused from a client
// namespace on the lab bridge. Restricted egress of A holds on the worker: allowed destination only.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { BUSYBOX_IMAGE, ensureTestImages } from "../support/docker.ts";
import { e2eApp, viaCaddy } from "../support/e2e-app.ts";
import { startSwarmLab, stopSwarmLab, type LabNode, type SwarmLab } from "../support/swarm-lab.ts";
import { startLabAgent, type LabAgent } from "../support/swarm-agent.ts";

const LAB = "net";
const BASE = "e2e-swarmnet.test";
const ADMIN = 26000 + Math.floor(Math.random() * 300) * 4;
const HTTP = ADMIN + 1;
const API = ADMIN + 3;
const CLIENT_NS = "staxa-swl-net-client";
const CLIENT_IP = "10.215.4.50";
let lab: SwarmLab;
let caddy: TestCaddy;
let h: Awaited<ReturnType<typeof e2eApp>>;
let server: ReturnType<typeof Bun.serve> | undefined;
let agents: LabAgent[] = [];
let probe: ReturnType<typeof Bun.spawn> | undefined;
let probeDir = "";
const started = Date.now();

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  const p = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [code, out] = await Promise.all([p.exited, new Response(p.stdout).text()]);
  return { code, out: out.trim() };
}
async function must(argv: string[]): Promise<string> {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(" ")} failed (${r.code})`);
  return r.out;
}

beforeAll(async () => {
  await ensureTestImages();
  lab = await startSwarmLab({ id: LAB, subnet: 4, workers: 1, images: [BUSYBOX_IMAGE] });
  caddy = await startCaddy({ adminPort: ADMIN });
  h = await e2eApp({
    STAXA_ENGINE: "swarm",
    STAXA_DOCKER_SOCKET: lab.manager.socket,
    STAXA_BASE_DOMAIN: BASE,
    STAXA_PUBLIC_SCHEME: "http",
    STAXA_HTTP_PORT: String(HTTP),
    STAXA_HTTPS_PORT: String(ADMIN + 2),
    STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
    STAXA_DRAIN_SEC: "0",
    STAXA_HEALTH_TIMEOUT_SEC: "30",
    STAXA_PORT: String(API),
  });
  // The agents poll the appliance over the lab bridge, as nodes reach a manager on their LAN.
  server = Bun.serve({ hostname: lab.gateway, port: API, fetch: (req) => h.app.handle(req) });
  // A client on the lab bridge that no rule allows (and a server there for the egress checks).
  await must(["ip", "netns", "add", CLIENT_NS]);
  await must(["ip", "link", "add", "stxswnetc", "type", "veth", "peer", "name", "stxswnetcp"]);
  await must(["ip", "link", "set", "stxswnetc", "master", lab.bridge, "up"]);
  await must(["ip", "link", "set", "stxswnetcp", "netns", CLIENT_NS]);
  const inNs = ["nsenter", `--net=/run/netns/${CLIENT_NS}`];
  await must([...inNs, "ip", "addr", "add", `${CLIENT_IP}/24`, "dev", "stxswnetcp"]);
  await must([...inNs, "ip", "link", "set", "stxswnetcp", "up"]);
  probeDir = mkdtempSync(join(tmpdir(), "staxa-swarmnet-probe-"));
  writeFileSync(join(probeDir, "index.html"), "probe\n");
  probe = Bun.spawn([...inNs, "busybox", "httpd", "-f", "-p", `${CLIENT_IP}:8099`, "-h", probeDir], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
  });
}, 240_000);

afterAll(async () => {
  for (const a of agents) await a.stop();
  for (const a of agents) console.log(`agent on ${a.node.name}:\n${a.log().slice(-1500)}`);
  probe?.kill();
  if (probeDir) rmSync(probeDir, { recursive: true, force: true });
  server?.stop(true);
  await h?.resolver.kill();
  await caddy?.stop();
  await run(["ip", "netns", "delete", CLIENT_NS]);
  await run(["ip", "link", "delete", "stxswnetc"]);
  await stopSwarmLab(LAB);
  if (h) rmSync(h.dataDir, { recursive: true, force: true });
  console.log(`swarm-network e2e: ${((Date.now() - started) / 1000).toFixed(1)} s including lab set-up and teardown`);
}, 120_000);

const SERVE = "trap 'exit 0' TERM; mkdir -p /w && echo $TENANT > /w/index.html && httpd -f -p $PORT -h /w & wait";
const worker = () => lab.nodes[1]!;
const ids: Record<string, string> = {};

async function deploy(name: string) {
  const r = await h.call("POST", "/api/v1/tenants", {
    name,
    source_type: "image",
    image_url: BUSYBOX_IMAGE,
    app_port: 8080,
    command: ["sh", "-c", SERVE.replace("$TENANT", name)],
    replicas: 2,
  });
  expect(r.status).toBe(202);
  ids[name] = r.json.data.id;
  const depId = (await h.call("GET", `/api/v1/tenants/${ids[name]}/deployments`)).json.data[0].id;
  const dep = await h.waitDeployment(ids[name]!, depId, 120_000);
  expect([dep.status, dep.error ?? null]).toEqual(["succeeded", null]);
}

/** The task container of `tenant` on `node`, and its address on the tenant's overlay. */
async function taskOn(node: LabNode, tenant: string): Promise<{ id: string; overlay: string }> {
  const id = await must(lab.docker(node, "ps", "-q", "--filter", `label=staxa.tenant=${tenant}`));
  expect(id.split("\n")).toHaveLength(1);
  const overlay = await must(
    lab.docker(node, "inspect", "-f", `{{(index .NetworkSettings.Networks "staxa-${tenant}").IPAddress}}`, id),
  );
  return { id, overlay };
}

/** An HTTP GET from inside a task (busybox wget under a 3 s timeout): the body, or undefined when it failed. */
async function fromTask(node: LabNode, container: string, url: string): Promise<string | undefined> {
  // Not wget -T: this busybox's wget dies of SIGSEGV with it.
  const r = await run(lab.docker(node, "exec", container, "timeout", "3", "wget", "-q", "-O-", url));
  return r.code === 0 ? r.out : undefined;
}

/** B's task on the manager as Caddy reaches it: <manager address>:<published port>. */
async function upstreamOn(tenant: string, node: LabNode): Promise<string> {
  const route = (await h.ctx.proxy.listRoutes()).find((x) => x.id === `${tenant}.web`)!;
  const ups = route.upstreams ?? [route.upstream];
  const u = ups.find((x) => x.startsWith(`${node.ip}:`));
  expect(u).toBeDefined();
  return u!;
}

let a: { id: string; overlay: string };
let bOverlay = "";
let bOnManager = "";
let inboundPort = 0;

test("tenants A and B each run a task on both nodes; without agents A's task reaches B's at <manager>:<published port>", async () => {
  await deploy("neta");
  await deploy("netb");
  a = await taskOn(worker(), "neta");
  bOverlay = (await taskOn(lab.manager, "netb")).overlay;
  bOnManager = await upstreamOn("netb", lab.manager);
  // The hole this file is about (and proof that the checks below can fail): out via docker_gwbridge, masqueraded.
  expect(await fromTask(worker(), a.id, `http://${bOnManager}/`)).toBe("netb");
}, 300_000);

test("with an agent on each node, A's task reaches neither B's task (node port, overlay) nor the host; its own overlay and Caddy still work", async () => {
  const join = (await h.call("POST", "/api/v1/nodes/join-token")).json.data;
  const argv: string[] = join.agent_argv;
  expect(argv.slice(0, 3)).toEqual(["staxa", "agent", "--manager"]);
  const token = argv[argv.indexOf("--token") + 1]!;
  agents = lab.nodes.map((n) => startLabAgent(n, `http://${lab.gateway}:${API}`, token));
  for (const ag of agents) await ag.waitFor(/applied \d+ iptables steps \(\d+ local tasks\)/);
  for (const ag of agents) expect(ag.log()).not.toContain(token);

  expect(await fromTask(worker(), a.id, `http://${bOnManager}/`)).toBeUndefined();
  expect(await fromTask(worker(), a.id, `http://${bOverlay}:8080/`)).toBeUndefined();
  const bOnWorker = await upstreamOn("netb", worker());
  expect(await fromTask(worker(), a.id, `http://${bOnWorker}/`)).toBeUndefined(); // same node, by its address
  expect(await fromTask(worker(), a.id, `http://${lab.gateway}:${API}/api/v1/openapi.json`)).toBeUndefined();
  // Positive controls: A's own tasks over its overlay (the service's DNS name), B through Caddy.
  const aOnManager = await taskOn(lab.manager, "neta");
  expect(await fromTask(worker(), a.id, `http://${aOnManager.overlay}:8080/`)).toBe("neta");
  // B's public URL is public: A's task reaches it through Caddy's port on the host (the one port of it left open).
  const pub = await run(
    lab.docker(
      worker(),
      "exec",
      a.id,
      "timeout",
      "3",
      "wget",
      "-q",
      "-O-",
      "--header",
      `Host: netb.${BASE}`,
      `http://${lab.gateway}:${HTTP}/`,
    ),
  );
  expect([pub.code, pub.out]).toEqual([0, "netb"]);
  const viaB = await viaCaddy(HTTP, `netb.${BASE}`);
  expect([viaB.status, viaB.body.trim()]).toEqual([200, "netb"]);
}, 120_000);

test("an inbound rule of A for the host's bridge address answers through the worker's address, and is refused from another source", async () => {
  const r = await h.call("POST", `/api/v1/tenants/${ids.neta}/network-rules`, {
    direction: "inbound",
    protocol: "tcp",
    target_service: "web",
    target_port: 8080,
    source_cidrs: [`${lab.gateway}/32`],
  });
  expect(r.status).toBe(201);
  const port = r.json.data.allocated_port as number;
  const url = (node: LabNode) => `http://${node.ip}:${port}/`;
  // The agents pick the rule up on their next poll (1 s here): wait until both nodes listen, once each.
  const answer = (node: LabNode) =>
    fetch(url(node), { signal: AbortSignal.timeout(2000) }).then(
      async (res) => (await res.text()).trim(),
      () => undefined,
    );
  for (const node of [worker(), lab.manager]) {
    const until = Date.now() + 15_000;
    let body = await answer(node);
    while (body === undefined && Date.now() < until) {
      await Bun.sleep(300);
      body = await answer(node);
    }
    expect([node.name, body]).toEqual([node.name, "neta"]);
  }
  const fromClient = (target: string) =>
    run(["nsenter", `--net=/run/netns/${CLIENT_NS}`, "curl", "-sS", "-m", "3", "-o", "/dev/null", "-w", "%{http_code}", target]);
  // The client reaches the worker (B's published port answers it) but not A's inbound port: not in the rule's CIDRs.
  expect((await fromClient(`http://${await upstreamOn("netb", worker())}/`)).out).toBe("200");
  const refused = await fromClient(url(worker()));
  expect([refused.code === 0, refused.out]).toEqual([false, "000"]);
  inboundPort = port;
}, 60_000);

test("restricted egress of A holds on the worker: only DNS and the allowed destination", async () => {
  const answered = async () => (await fromTask(worker(), a.id, `http://${CLIENT_IP}:8099/`)) === "probe";
  expect(await answered()).toBe(true); // open egress: the client namespace is no cluster address
  const from = agents[1]!.log().length;
  expect((await h.call("PATCH", `/api/v1/tenants/${ids.neta}`, { egress_mode: "restricted" })).status).toBe(200);
  await agents[1]!.waitFor(/applied \d+ iptables steps/, 15_000, from);
  expect(await answered()).toBe(false);
  const from2 = agents[1]!.log().length;
  const rule = await h.call("POST", `/api/v1/tenants/${ids.neta}/network-rules`, {
    direction: "outbound",
    protocol: "tcp",
    destination_cidrs: [`${CLIENT_IP}/32`],
    destination_port: 8099,
  });
  expect(rule.status).toBe(201);
  await agents[1]!.waitFor(/applied \d+ iptables steps/, 15_000, from2);
  expect(await answered()).toBe(true);
}, 90_000);

test("a node running no task of the service still answers the inbound port: its agent relays to one that does", async () => {
  const nodes = (await h.call("GET", "/api/v1/nodes")).json.data as Array<{ id: string; role: string }>;
  const w = nodes.find((n) => n.role === "worker")!;
  expect((await h.call("POST", `/api/v1/nodes/${w.id}/drain`)).status).toBe(200);
  try {
    const until = Date.now() + 60_000;
    let left = "x";
    while (left && Date.now() < until) {
      await Bun.sleep(500);
      left = await must(lab.docker(worker(), "ps", "-q", "--filter", "label=staxa.managed=1"));
    }
    expect(left).toBe("");
    const res = await fetch(`http://${worker().ip}:${inboundPort}/`, { signal: AbortSignal.timeout(5000) });
    expect((await res.text()).trim()).toBe("neta");
  } finally {
    await h.call("POST", `/api/v1/nodes/${w.id}/activate`);
  }
}, 90_000);
