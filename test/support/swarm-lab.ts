// A real Docker Swarm on this one machine: extra `dockerd`s, each in its own network namespace, joined into one swarm.
// The host's own dockerd is never touched (other tests use it): every lab daemon has its own socket, data root,
// exec root, pidfile, containerd and cgroup parent, under paths named after the lab.
//
// Why it is built this way (checked on Debian 12's docker.io 20.10, kernel without IPVS and IPsec):
// - `nsenter --net=` and not `ip netns exec`: the latter remounts /sys, which hides the cgroups dockerd needs.
// - `unshare --uts` gives every node its own hostname, so `docker node ls` tells them apart.
// - veths on one bridge with a FORWARD accept rule for it (the host's FORWARD policy is DROP once Docker runs):
//   that is the cluster's "LAN"; the host reaches every node's address (Caddy dials <node>:<published port>).
// - DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1: a task's node otherwise tries Docker Hub first (unreachable here: ~20 s
//   per task before it falls back to the local image). Images are loaded into every node with `docker load`.
// Run by hand: scripts/swarm-lab.sh up|down|status.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const RUN_ROOT = "/run/staxa-swarm-lab";
const DATA_ROOT = "/var/lib/staxa-swarm-lab";

export interface LabNode {
  name: string;
  /** Network namespace (under /run/netns). */
  netns: string;
  /** The node's address on the lab bridge (what it advertises, what Caddy dials). */
  ip: string;
  /** unix socket path of its dockerd. */
  socket: string;
  role: "manager" | "worker";
}

export interface SwarmLab {
  id: string;
  bridge: string;
  /** The host's address on the lab bridge. */
  gateway: string;
  nodes: LabNode[];
  manager: LabNode;
  /** `docker -H <node socket> …` as argv (for tests that look at a node directly). */
  docker(node: LabNode, ...args: string[]): string[];
}

export interface LabOptions {
  /** Short name ([a-z0-9], ≤ 4 chars): interface names are limited to 15 characters. */
  id: string;
  /** Third octet of the lab's 10.215.<n>.0/24. */
  subnet: number;
  /** Workers beside the manager (1 or 2). */
  workers: number;
  /** Host images loaded into every node. */
  images: string[];
  /**
   * `swarm init --dispatcher-heartbeat`: Swarm marks a silent node down after about three heartbeats (default 5 s,
   * so ~15 s). A test of node loss sets 1 s (~3 s); an operator sets it on the real cluster (docs/swarm.md).
   */
  heartbeatSec?: number;
}

async function run(argv: string[], input?: Blob): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn(argv, { stdin: input ?? "ignore", stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, out: out.trim(), err: err.trim() };
}

async function must(argv: string[]): Promise<string> {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(" ")} failed (${r.code}): ${r.err.slice(-500)}`);
  return r.out;
}

function names(o: Pick<LabOptions, "id" | "subnet">, workers: number) {
  if (!/^[a-z0-9]{1,4}$/.test(o.id)) throw new Error(`lab id must be 1-4 of [a-z0-9], got "${o.id}"`);
  const bridge = `stxsw${o.id}`;
  const nodes: LabNode[] = Array.from({ length: workers + 1 }, (_, i) => ({
    name: `swl-${o.id}-${i === 0 ? "m" : `w${i}`}`,
    netns: `staxa-swl-${o.id}-${i}`,
    ip: `10.215.${o.subnet}.${11 + i}`,
    socket: join(RUN_ROOT, o.id, `n${i}`, "docker.sock"),
    role: i === 0 ? "manager" : "worker",
  }));
  return { bridge, gateway: `10.215.${o.subnet}.1`, nodes };
}

const dockerArgs = (node: LabNode, ...args: string[]) => ["docker", "-H", `unix://${node.socket}`, ...args];

/** Brings a lab up (a stale one of the same id goes first); resolves once every node is Ready in the swarm. */
export async function startSwarmLab(o: LabOptions): Promise<SwarmLab> {
  await stopSwarmLab(o.id);
  const { bridge, gateway, nodes } = names(o, o.workers);
  await must(["ip", "link", "add", bridge, "type", "bridge"]);
  await must(["ip", "addr", "add", `${gateway}/24`, "dev", bridge]);
  await must(["ip", "link", "set", bridge, "up"]);
  await must(["iptables", "-I", "FORWARD", "-i", bridge, "-o", bridge, "-j", "ACCEPT"]);
  await Promise.all(nodes.map((n, i) => startNode(o, n, i, bridge, gateway)));
  const manager = nodes[0]!;
  const heartbeat = o.heartbeatSec ? ["--dispatcher-heartbeat", `${o.heartbeatSec}s`] : [];
  await must(
    dockerArgs(manager, "swarm", "init", "--advertise-addr", manager.ip, "--listen-addr", `${manager.ip}:2377`, ...heartbeat),
  );
  const token = await must(dockerArgs(manager, "swarm", "join-token", "-q", "worker"));
  for (const w of nodes.slice(1))
    await must(dockerArgs(w, "swarm", "join", "--advertise-addr", w.ip, "--token", token, `${manager.ip}:2377`));
  await waitReady(manager, nodes.length);
  await loadImages(o, nodes);
  return { id: o.id, bridge, gateway, nodes, manager, docker: dockerArgs };
}

async function startNode(o: LabOptions, n: LabNode, i: number, bridge: string, gateway: string): Promise<void> {
  const host = `${bridge}h${i}`;
  const peer = `${bridge}p${i}`;
  await must(["ip", "netns", "add", n.netns]);
  await must(["ip", "link", "add", host, "type", "veth", "peer", "name", peer]);
  await must(["ip", "link", "set", host, "master", bridge, "up"]);
  await must(["ip", "link", "set", peer, "netns", n.netns]);
  const inNs = ["nsenter", `--net=/run/netns/${n.netns}`];
  await must([...inNs, "ip", "addr", "add", `${n.ip}/24`, "dev", peer]);
  await must([...inNs, "ip", "link", "set", peer, "up"]);
  await must([...inNs, "ip", "link", "set", "lo", "up"]);
  await must([...inNs, "ip", "route", "add", "default", "via", gateway]);
  const runDir = join(RUN_ROOT, o.id, `n${i}`);
  const dataDir = join(DATA_ROOT, o.id, `n${i}`);
  mkdirSync(runDir, { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  // Not the host's /etc/docker/daemon.json (its runtimes, its hosts are the host daemon's). no-new-privileges for
  // every container: Swarm of Docker 20.10 cannot ask for it per task (docs/swarm.md), each node's engine does.
  writeFileSync(join(runDir, "daemon.json"), '{ "no-new-privileges": true }\n');
  const log = Bun.file(join(runDir, "dockerd.log"));
  const argv = [
    ...inNs,
    "unshare",
    "--uts",
    "sh",
    "-c",
    'hostname "$0" && exec "$@"',
    n.name,
    "dockerd",
    "--config-file",
    join(runDir, "daemon.json"),
    "--data-root",
    dataDir,
    "--exec-root",
    join(runDir, "exec"),
    "--pidfile",
    join(runDir, "docker.pid"),
    "-H",
    `unix://${n.socket}`,
    "--cgroup-parent",
    `/staxa-swl-${o.id}-${i}`,
    // A lab is torn down in seconds, not after each task's 10 s stop timeout.
    "--shutdown-timeout",
    "2",
  ];
  const p = Bun.spawn(argv, {
    stdin: "ignore",
    stdout: log,
    stderr: log,
    env: { ...process.env, DOCKER_SERVICE_PREFER_OFFLINE_IMAGE: "1" },
  });
  p.unref();
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    if (p.exitCode !== null) break;
    if ((await run(dockerArgs(n, "version", "-f", "{{.Server.Version}}"))).code === 0) return;
    await Bun.sleep(200);
  }
  const tail = existsSync(join(runDir, "dockerd.log")) ? readFileSync(join(runDir, "dockerd.log"), "utf8").slice(-1500) : "";
  throw new Error(`dockerd of ${n.name} did not come up: ${tail}`);
}

async function waitReady(manager: LabNode, count: number): Promise<void> {
  const until = Date.now() + 30_000;
  let last = "";
  while (Date.now() < until) {
    last = (await run(dockerArgs(manager, "node", "ls", "--format", "{{.Status}}"))).out;
    if (last.split("\n").filter((s) => s === "Ready").length === count) return;
    await Bun.sleep(300);
  }
  throw new Error(`swarm nodes not Ready after 30 s: ${last}`);
}

/** One `docker save` of the host's images, loaded into every node (the nodes can pull nothing here). */
async function loadImages(o: LabOptions, nodes: LabNode[]): Promise<void> {
  if (!o.images.length) return;
  const tar = join(DATA_ROOT, o.id, "images.tar");
  await must(["docker", "save", "-o", tar, ...o.images]);
  await Promise.all(nodes.map((n) => must(dockerArgs(n, "load", "-q", "-i", tar))));
  rmSync(tar, { force: true });
}

/** The running lab of this id, as startSwarmLab returned it (for scripts that attach to it). */
export function labOf(id: string, subnet: number): SwarmLab {
  const count = existsSync(join(RUN_ROOT, id)) ? readdirSync(join(RUN_ROOT, id)).filter((d) => /^n\d+$/.test(d)).length : 0;
  const { bridge, gateway, nodes } = names({ id, subnet }, Math.max(0, count - 1));
  return { id, bridge, gateway, nodes, manager: nodes[0]!, docker: dockerArgs };
}

/**
 * A node's engine dies as on a real server shut down: its dockerd gets SIGTERM and stops its containers (their
 * published ports refuse at once) and says nothing to the manager, which marks the node down once its heartbeats
 * stop (LabOptions.heartbeatSec). Resolves once the daemon has exited.
 */
export async function stopNodeEngine(lab: SwarmLab, node: LabNode): Promise<void> {
  const i = lab.nodes.indexOf(node);
  if (i < 0) throw new Error(`${node.name} is not a node of lab ${lab.id}`);
  await stopDaemon(join(RUN_ROOT, lab.id, `n${i}`, "docker.pid"));
}

/**
 * A node is cut off as a server losing power or its network is: its link to the lab's "LAN" goes down, so packets to
 * it vanish (no refusal, dials time out) and the manager stops hearing its heartbeats. Its engine keeps running.
 */
export async function cutNodeLink(lab: SwarmLab, node: LabNode): Promise<void> {
  const i = lab.nodes.indexOf(node);
  if (i < 0) throw new Error(`${node.name} is not a node of lab ${lab.id}`);
  await must(["ip", "link", "set", `${lab.bridge}h${i}`, "down"]);
}

/** Removes everything a lab of this id made: daemons, their containers and mounts, namespaces, bridge, rule, files. */
export async function stopSwarmLab(id: string): Promise<void> {
  if (!/^[a-z0-9]{1,4}$/.test(id)) throw new Error(`lab id must be 1-4 of [a-z0-9], got "${id}"`);
  const runDir = join(RUN_ROOT, id);
  const dirs = existsSync(runDir) ? readdirSync(runDir).filter((d) => /^n\d+$/.test(d)) : [];
  await Promise.all(dirs.map((d) => stopDaemon(join(runDir, d, "docker.pid"))));
  // A daemon killed mid-shutdown leaves its containers and their shims: they are ours by cgroup and by socket path.
  for (const pid of [...labCgroupPids(id), ...pidsMentioning(`${runDir}/`)]) killPid(pid, "SIGKILL");
  for (const root of [runDir, join(DATA_ROOT, id)]) await unmountUnder(root);
  rmSync(runDir, { recursive: true, force: true });
  rmSync(join(DATA_ROOT, id), { recursive: true, force: true });
  const netns = (await run(["ip", "netns", "list"])).out
    .split("\n")
    .map((l) => l.split(" ")[0]!)
    .filter((n) => n.startsWith(`staxa-swl-${id}-`));
  for (const n of netns) await run(["ip", "netns", "delete", n]);
  const bridge = `stxsw${id}`;
  while ((await run(["iptables", "-D", "FORWARD", "-i", bridge, "-o", bridge, "-j", "ACCEPT"])).code === 0);
  // A deleted namespace takes its veths with it only when the kernel gets round to it (seconds on a loaded
  // machine): the next `up` of this id would find them. Deleting the host ends removes each pair now.
  for (let i = 0; i < 4; i++) await run(["ip", "link", "delete", `${bridge}h${i}`]); // a lab has 2 or 3 nodes
  await run(["ip", "link", "delete", bridge]);
  for (const sub of readdirSync("/sys/fs/cgroup", { withFileTypes: true })) {
    if (!sub.isDirectory()) continue;
    for (const d of readdirSync(join("/sys/fs/cgroup", sub.name)).filter((d) => d.startsWith(`staxa-swl-${id}-`)))
      await run(["find", join("/sys/fs/cgroup", sub.name, d), "-depth", "-type", "d", "-exec", "rmdir", "{}", ";"]);
  }
}

function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Processes in the lab's cgroups (its containers), read from the pids hierarchy (cgroup v1) or the unified one. */
function labCgroupPids(id: string): number[] {
  const pids: number[] = [];
  for (const root of ["/sys/fs/cgroup/pids", "/sys/fs/cgroup"]) {
    if (!existsSync(root)) continue;
    for (const d of readdirSync(root).filter((d) => d.startsWith(`staxa-swl-${id}-`))) {
      const walk = (dir: string) => {
        const procs = join(dir, "cgroup.procs");
        if (existsSync(procs)) pids.push(...readFileSync(procs, "utf8").split("\n").filter(Boolean).map(Number));
        for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name));
      };
      walk(join(root, d));
    }
  }
  return pids;
}

/** Processes whose command line names `path` (the lab's containerd shims, by their socket address). */
function pidsMentioning(path: string): number[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(path);
      } catch {
        return false;
      }
    })
    .map(Number)
    .filter((p) => p !== process.pid);
}

/** SIGTERM (dockerd stops its containers and its containerd), SIGKILL after 30 s. */
async function stopDaemon(pidfile: string): Promise<void> {
  if (!existsSync(pidfile)) return;
  const pid = Number(readFileSync(pidfile, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 1) return;
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  killPid(pid, "SIGTERM");
  const until = Date.now() + 30_000;
  while (alive() && Date.now() < until) await Bun.sleep(200);
  if (alive()) killPid(pid, "SIGKILL");
}

/** Mounts a killed daemon may leave (overlay layers, netns files, shm), deepest first. */
async function unmountUnder(root: string): Promise<void> {
  const mounts = readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1] ?? "")
    .filter((m) => m === root || m.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run(["umount", "-l", m]);
}

if (import.meta.main) {
  const [cmd = "status", id = "dev", subnet = "0", workers = "2"] = process.argv.slice(2);
  if (cmd === "up") {
    const images = (process.env.SWARM_LAB_IMAGES ?? "staxa-test/busybox:latest").split(",").filter(Boolean);
    const lab = await startSwarmLab({ id, subnet: Number(subnet), workers: Number(workers), images });
    for (const n of lab.nodes) console.log(`${n.role}\t${n.name}\t${n.ip}\tDOCKER_HOST=unix://${n.socket}`);
  } else if (cmd === "down") await stopSwarmLab(id);
  else {
    const lab = labOf(id, Number(subnet));
    console.log((await run(lab.docker(lab.manager, "node", "ls"))).out || "no lab running");
  }
}
