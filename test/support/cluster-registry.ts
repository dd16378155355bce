// The cluster registry for swarm e2e tests, started the way the appliance's operator does: `staxa registry` (this
// repo's binary) with STAXA_CLUSTER_REGISTRY_ADDR on the lab's gateway, so every lab node reaches it. It makes its CA
// and credentials in its own directory and the CA trusted under /etc/docker/certs.d/<address>/ (every lab dockerd
// reads that directory: they share this host's filesystem). Pass `env` to e2eApp beside STAXA_ENGINE=swarm.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { freePort } from "./docker-registry.ts";

export interface ClusterRegistryHandle {
  /** host:port nodes pull from. */
  address: string;
  dir: string;
  caPem: string;
  /** Settings the appliance needs to push there (STAXA_CLUSTER_REGISTRY_ADDR and _DIR). */
  env: Record<string, string>;
  /** The registry's credentials (as the appliance reads them), for tests that query it. */
  auth: { username: string; password: string };
  stop(): Promise<void>;
}

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

/** Starts `staxa registry` on `host` (a lab's gateway address) and resolves once /v2/ answers 401 over its TLS. */
export async function startClusterRegistry(host: string, port?: number): Promise<ClusterRegistryHandle> {
  const dir = mkdtempSync(join(tmpdir(), "staxa-e2e-cluster-registry-"));
  const address = `${host}:${port ?? (await freePort())}`;
  const env = { STAXA_CLUSTER_REGISTRY_ADDR: address, STAXA_CLUSTER_REGISTRY_DIR: dir };
  const child = Bun.spawn([process.execPath, MAIN, "registry"], {
    env: { ...process.env, ...env, STAXA_DATA_DIR: dir, STAXA_LOG_LEVEL: "error" },
    stdin: "pipe", // it ends with this process, even one killed with -9
    stdout: "ignore",
    stderr: "pipe",
  });
  const certs = `/etc/docker/certs.d/${address}`;
  const stop = async () => {
    child.kill("SIGTERM");
    await child.exited;
    rmSync(dir, { recursive: true, force: true });
    rmSync(certs, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const caPem = readFileSync(join(dir, "ca.crt"), "utf8");
      const res = await fetch(`https://${address}/v2/`, { tls: { ca: caPem }, signal: AbortSignal.timeout(2000) });
      if (res.status === 401) {
        const password = readFileSync(join(dir, "password"), "utf8").trim();
        return { address, dir, caPem, env, auth: { username: "staxa", password }, stop };
      }
    } catch {
      // not yet: its material is being made, or it is not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      const err = child.stderr ? await new Response(child.stderr).text().catch(() => "") : "";
      await stop();
      throw new Error(`staxa registry on ${address} did not come up (${dirname(certs)}): ${err.slice(-500)}`);
    }
    await Bun.sleep(200);
  }
}

/**
 * Lets a lab node's engine build (the appliance builds on the manager): its daemon gets the build runtime the host's
 * has (scripts/build-runtime.sh) as its default, reloaded with SIGHUP (dockerd reloads runtimes live).
 */
export async function enableLabBuilds(socket: string): Promise<void> {
  const runDir = dirname(socket);
  const host = JSON.parse(readFileSync("/etc/docker/daemon.json", "utf8")) as { runtimes?: Record<string, unknown> };
  const own = JSON.parse(readFileSync(join(runDir, "daemon.json"), "utf8")) as Record<string, unknown>;
  const next = { ...own, runtimes: { "staxa-runc": host.runtimes?.["staxa-runc"] }, "default-runtime": "staxa-runc" };
  writeFileSync(join(runDir, "daemon.json"), `${JSON.stringify(next)}\n`);
  process.kill(Number(readFileSync(join(runDir, "docker.pid"), "utf8").trim()), "SIGHUP");
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const p = Bun.spawnSync(["docker", "-H", `unix://${socket}`, "info", "--format", "{{.DefaultRuntime}}"]);
    if (p.stdout.toString().trim() === "staxa-runc") return;
    await Bun.sleep(200);
  }
  throw new Error(`the engine at ${socket} did not take staxa-runc as its default runtime`);
}

/**
 * The lab starts its dockerds with DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 (no registry reachable: never pull), under
 * which a Swarm task never pulls, not even from the cluster registry. This restarts one node's dockerd as it was
 * (same namespaces, argv, hostname) without that variable, and resolves once the manager sees it Ready again.
 * (A LabOptions flag in swarm-lab.ts would do this at start-up; until then, this.)
 */
export async function allowRegistryPulls(
  node: { socket: string; netns: string; name: string },
  managerSocket: string,
): Promise<void> {
  const runDir = dirname(node.socket);
  const pid = Number(readFileSync(join(runDir, "docker.pid"), "utf8").trim());
  const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 150 && existsSync(`/proc/${pid}`); i++) await Bun.sleep(200);
  const env = { ...process.env };
  delete env.DOCKER_SERVICE_PREFER_OFFLINE_IMAGE;
  const log = Bun.file(join(runDir, "dockerd.restarted.log"));
  const p = Bun.spawn(
    [
      "nsenter",
      `--net=/run/netns/${node.netns}`,
      "unshare",
      "--uts",
      "sh",
      "-c",
      'hostname "$0" && exec "$@"',
      node.name,
      ...argv,
    ],
    { stdin: "ignore", stdout: log, stderr: log, env },
  );
  p.unref();
  const docker = (socket: string, ...args: string[]) =>
    Bun.spawnSync(["docker", "-H", `unix://${socket}`, ...args])
      .stdout.toString()
      .trim();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const rows = docker(managerSocket, "node", "ls", "--format", "{{.Hostname}} {{.Status}}").split("\n");
    if (docker(node.socket, "version", "-f", "{{.Server.Version}}") && rows.includes(`${node.name} Ready`)) return;
    await Bun.sleep(300);
  }
  throw new Error(`${node.name}'s dockerd did not come back Ready`);
}
