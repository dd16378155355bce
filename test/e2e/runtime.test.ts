// The Docker runtime against the real engine: networks, builds (limits, symlinks, deadline), containers, logs, isolation.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Upstream } from "../../src/lib/errors.ts";
import { loadConfig } from "../../src/config.ts";
import { createDockerRuntime } from "../../src/runtime/docker.ts";
import { containerSpec } from "../../src/runtime/container-spec.ts";
import type { BuildSpec } from "../../src/runtime/types.ts";
import {
  BUSYBOX_IMAGE,
  NODE_IMAGE,
  dockerCli,
  dockerRuntime,
  ensureTestImages,
  removeByPrefix,
  uniqueName,
} from "../support/docker.ts";

const P = uniqueName("staxa-rt-test-") + "-";
/** Tenant name whose container names (`staxa-<tenant>-…`) start with P, so the prefix cleanup finds them. */
const TENANT = P.slice("staxa-".length, -1);
const rt = dockerRuntime();
const dirs: string[] = [];
const images: string[] = [];
const NETWORK_A = `${P}net-a`;
const NETWORK_B = `${P}net-b`;
const HTTPD = ["busybox", "httpd", "-f", "-p", "3000", "-h", "/www"];
let webImage = "";

function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "staxa-rt-test-"));
  dirs.push(dir);
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return dir;
}

function build(contextDir: string, over: Partial<BuildSpec> = {}): Promise<{ imageId: string; log: string[] }> {
  const log: string[] = [];
  const tag = `${P}img:${images.length}`;
  images.push(tag);
  const spec: BuildSpec = {
    contextDir,
    dockerfile: "Dockerfile",
    tag,
    labels: { "staxa.test": P },
    memoryBytes: 256 * 1024 * 1024,
    cpus: 1,
    timeoutMs: 60_000,
    onLog: (l) => log.push(l),
    ...over,
  };
  return rt.buildImage(spec).then((r) => ({ ...r, log }));
}

/** Starts an httpd container of the web image on `network` via the real containerSpec. */
function startWeb(network: string, service: string, deployment: string) {
  return rt.startContainer(
    containerSpec({
      tenant: TENANT,
      service,
      deploymentId: deployment,
      image: webImage,
      env: { SECRET_TOKEN: "s3cr3t-value" },
      port: 3000,
      resourceSize: "small",
      network,
      cmd: HTTPD,
      user: "10001",
    }),
  );
}

async function waitHttp(url: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      return await res.text();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await Bun.sleep(100);
    }
  }
}

beforeAll(async () => {
  await ensureTestImages();
  await rt.ensureNetwork(NETWORK_A, { "staxa.test": P });
  await rt.ensureNetwork(NETWORK_B, { "staxa.test": P });
  const ctx = tempDir({
    Dockerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY index.html /www/index.html\nCMD ["busybox","httpd","-f","-p","3000","-h","/www"]\n`,
    "index.html": "hello from staxa\n",
  });
  webImage = (await build(ctx)).imageId;
}, 120_000);

afterAll(async () => {
  await removeByPrefix(P);
  for (const tag of images) await rt.removeImage(tag).catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 60_000);

describe("engine", () => {
  test("ping answers; a dead socket is Upstream", async () => {
    await rt.ping();
    const dead = createDockerRuntime(loadConfig({ STAXA_DOCKER_SOCKET: "/tmp/staxa-rt-test-no.sock" }));
    await expect(dead.ping()).rejects.toBeInstanceOf(Upstream);
    // A failed call is never read as "container gone".
    await expect(dead.inspectContainer("anything")).rejects.toBeInstanceOf(Upstream);
  });

  test("networks: bridge, labelled, icc on, idempotent create and remove", async () => {
    const name = `${P}net-tmp`;
    await rt.ensureNetwork(name, { "staxa.test": P });
    await rt.ensureNetwork(name, { "staxa.test": P });
    const net = JSON.parse((await dockerCli(["network", "inspect", name])).out)[0];
    expect([net.Driver, net.Labels["staxa.test"], net.Options["com.docker.network.bridge.enable_icc"]]).toEqual([
      "bridge",
      P,
      "true",
    ]);
    await rt.removeNetwork(name);
    await rt.removeNetwork(name);
    expect((await dockerCli(["network", "inspect", name])).code).not.toBe(0);
  });

  test("volumes: idempotent create and remove", async () => {
    const name = `${P}vol`;
    await rt.ensureVolume(name, { "staxa.test": P });
    await rt.ensureVolume(name, { "staxa.test": P });
    expect((await dockerCli(["volume", "inspect", name])).code).toBe(0);
    await rt.removeVolume(name);
    await rt.removeVolume(name);
    expect((await dockerCli(["volume", "inspect", name])).code).not.toBe(0);
  });

  test("pulling an image that does not exist is Upstream", async () => {
    await expect(
      rt.pullImage(
        `${P}no/such-image:1`,
        { serveraddress: "registry.invalid", username: "u", password: "pw-never-shown" },
        () => {},
      ),
    ).rejects.toBeInstanceOf(Upstream);
    try {
      await rt.pullImage(
        `${P}no/such-image:1`,
        { serveraddress: "registry.invalid", username: "u", password: "pw-never-shown" },
        () => {},
      );
    } catch (e) {
      expect((e as Error).message).not.toContain("pw-never-shown");
    }
  }, 60_000);
});

describe("builds", () => {
  test("build streams the log, labels the image and returns its id", async () => {
    const { imageId, log } = await build(tempDir({ Dockerfile: `FROM ${BUSYBOX_IMAGE}\nRUN echo built-marker\n` }));
    expect(imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(log.some((l) => l.includes("built-marker"))).toBe(true);
    expect(await rt.findImage(images.at(-1)!)).toBe(imageId);
    const labels = JSON.parse((await dockerCli(["image", "inspect", "-f", "{{json .Config.Labels}}", imageId])).out);
    expect(labels["staxa.test"]).toBe(P);
  }, 60_000);

  test("a failing build carries the daemon's message", async () => {
    const err = await build(tempDir({ Dockerfile: `FROM ${BUSYBOX_IMAGE}\nRUN exit 7\n` })).catch((e) => e);
    expect(err).toBeInstanceOf(Upstream);
    expect(err.message).toContain("non-zero code: 7");
  }, 60_000);

  test("build runs under the memory and CPU limits", async () => {
    const { log } = await build(
      tempDir({
        Dockerfile: `FROM ${BUSYBOX_IMAGE}\nRUN cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us\n`,
      }),
      { memoryBytes: 128 * 1024 * 1024, cpus: 1 },
    );
    expect(log).toContain(String(128 * 1024 * 1024));
    expect(log).toContain("100000");
  }, 60_000);

  test("a Dockerfile symlinked to a host file outside the context does not leak it", async () => {
    const outside = tempDir({ secret: `FROM ${BUSYBOX_IMAGE}\nRUN echo LEAKED-host-file-content\n` });
    const ctx = tempDir();
    symlinkSync(join(outside, "secret"), join(ctx, "Dockerfile"));
    const log: string[] = [];
    const err = await build(ctx, { onLog: (l) => log.push(l) }).catch((e) => e);
    expect(err).toBeInstanceOf(Upstream);
    expect(log.join("\n") + err.message).not.toContain("LEAKED");
  }, 60_000);

  test("a symlink to a host file copied into the image carries no host content", async () => {
    const outside = tempDir({ secret: "LEAKED-host-secret\n" });
    const ctx = tempDir({ Dockerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY link /leak\nRUN cat /leak || echo no-content\n` });
    symlinkSync(join(outside, "secret"), join(ctx, "link"));
    // The daemon resolves the link inside the context, finds nothing there and fails the COPY.
    const log: string[] = [];
    const err = await build(ctx, { onLog: (l) => log.push(l) }).catch((e) => e);
    expect(err).toBeInstanceOf(Upstream);
    expect(err.message).toContain("does not exist");
    expect(log.join("\n") + err.message).not.toContain("LEAKED");
  }, 60_000);

  test("a Dockerfile path climbing out of the context is refused before Docker", async () => {
    await expect(build(tempDir(), { dockerfile: "../../etc/passwd" })).rejects.toThrow("inside the build context");
  });

  test("the deadline and the caller's signal stop a build", async () => {
    const slow = `FROM ${BUSYBOX_IMAGE}\nRUN sleep 30\n`;
    const t0 = Date.now();
    const timedOut = await build(tempDir({ Dockerfile: slow }), { timeoutMs: 1500 }).catch((e) => e);
    expect(timedOut.message).toContain("timed out");
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 1500);
    const cancelled = await build(tempDir({ Dockerfile: slow }), { signal: ctl.signal }).catch((e) => e);
    expect(cancelled.message).toContain("cancelled");
    expect(Date.now() - t0).toBeLessThan(15_000);
  }, 30_000);

  test("npm install works inside a build on the node test image", async () => {
    const ctx = tempDir({
      Dockerfile: `FROM ${NODE_IMAGE}\nUSER node\nRUN npm init -y >/dev/null && npm install is-number && node -e 'console.log("isnum", require("is-number")(5))'\n`,
    });
    const { log } = await build(ctx, { memoryBytes: 1024 * 1024 * 1024, timeoutMs: 120_000 });
    expect(log).toContain("isnum true");
  }, 150_000);
});

describe("containers", () => {
  test("start, serve HTTP on the tenant IP, locked down, no ports published", async () => {
    const c = await startWeb(NETWORK_A, "web", "dep_aaaaaaaa1");
    expect(c.running).toBe(true);
    expect(c.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(await waitHttp(`http://${c.ip}:3000/`)).toBe("hello from staxa\n");
    const [i] = JSON.parse((await dockerCli(["inspect", c.id])).out);
    expect({
      capDrop: i.HostConfig.CapDrop,
      capAdd: [...i.HostConfig.CapAdd].sort(),
      securityOpt: i.HostConfig.SecurityOpt,
      pids: i.HostConfig.PidsLimit,
      memory: i.HostConfig.Memory,
      nanoCpus: i.HostConfig.NanoCpus,
      privileged: i.HostConfig.Privileged,
      ports: i.HostConfig.PortBindings ?? {},
      published: Object.values(i.NetworkSettings.Ports ?? {}).filter(Boolean),
      network: i.HostConfig.NetworkMode,
      restart: i.HostConfig.RestartPolicy.Name,
      binds: i.HostConfig.Binds ?? [],
      mounts: i.Mounts,
      user: i.Config.User,
    }).toEqual({
      capDrop: ["ALL"],
      capAdd: ["CHOWN", "DAC_OVERRIDE", "NET_BIND_SERVICE", "SETGID", "SETUID"],
      securityOpt: ["no-new-privileges:true"],
      pids: 256,
      memory: 512 * 1024 * 1024,
      nanoCpus: 500_000_000,
      privileged: false,
      ports: {},
      published: [],
      network: NETWORK_A,
      restart: "unless-stopped",
      binds: [],
      mounts: [],
      user: "10001",
    });
    const listed = await rt.listContainers({ "staxa.tenant": TENANT, "staxa.deployment": "dep_aaaaaaaa1" });
    expect(listed.map((x) => [x.id, x.running, x.ip])).toEqual([[c.id, true, c.ip]]);
  }, 60_000);

  test("a container of tenant A cannot reach tenant B; it reaches its own tenant by alias", async () => {
    const b = await startWeb(NETWORK_B, "web", "dep_bbbbbbbb1");
    const a = await startWeb(NETWORK_A, "client", "dep_aaaaaaaa2");
    await waitHttp(`http://${b.ip}:3000/`);
    const own = await dockerCli(["exec", a.id, "timeout", "3", "wget", "-qO-", "http://web:3000/"]);
    expect(own.out).toBe("hello from staxa\n");
    const cross = await dockerCli(["exec", a.id, "timeout", "3", "wget", "-qO-", `http://${b.ip}:3000/`]);
    expect(cross.code).not.toBe(0);
    expect(cross.out).not.toContain("hello");
  }, 60_000);

  test("logs: stdout and stderr demultiplexed, tail, follow ends on abort", async () => {
    const spec = containerSpec({
      tenant: TENANT,
      service: "logger",
      deploymentId: "dep_cccccccc1",
      image: BUSYBOX_IMAGE,
      env: {},
      port: 3000,
      resourceSize: "small",
      network: NETWORK_A,
      cmd: ["sh", "-c", "echo out-line; echo err-line >&2; i=0; while true; do echo tick$i; i=$((i+1)); sleep 0.1; done"],
    });
    const c = await rt.startContainer(spec);
    await Bun.sleep(800);
    const all: string[] = [];
    for await (const l of rt.logs(c.id, { tail: 1000, follow: false })) all.push(l);
    // stdout and stderr interleave by arrival: check each is there, whole, once.
    expect(all.filter((l) => !l.startsWith("tick")).sort()).toEqual(["err-line", "out-line"]);
    expect(all.filter((l) => l.startsWith("tick")).slice(0, 3)).toEqual(["tick0", "tick1", "tick2"]);
    const tail: string[] = [];
    for await (const l of rt.logs(c.id, { tail: 2, follow: false })) tail.push(l);
    expect(tail.length).toBe(2);
    expect(tail.every((l) => /^tick\d+$/.test(l))).toBe(true);

    const ctl = new AbortController();
    const followed: string[] = [];
    const t0 = Date.now();
    for await (const l of rt.logs(c.id, { tail: 0, follow: true, signal: ctl.signal })) {
      followed.push(l);
      if (followed.length === 5) ctl.abort();
    }
    expect(followed.length).toBeGreaterThanOrEqual(5);
    expect(Date.now() - t0).toBeLessThan(5000);
    // A consumer that stops early closes the stream too (no leaked Docker stream keeps the loop alive).
    for await (const l of rt.logs(c.id, { tail: 1, follow: true })) {
      expect(l).toMatch(/^tick/);
      break;
    }
    const missing: string[] = [];
    for await (const l of rt.logs(`${P}missing`, { tail: 10, follow: false })) missing.push(l);
    expect(missing).toEqual([]);
  }, 30_000);

  test("stopAndRemove is idempotent; inspect of a missing container is undefined", async () => {
    const c = await startWeb(NETWORK_A, "gone", "dep_dddddddd1");
    await rt.stopAndRemove(c.id, 1);
    await rt.stopAndRemove(c.id, 1);
    expect(await rt.inspectContainer(c.id)).toBeUndefined();
    expect(await rt.inspectContainer(`${P}never-existed`)).toBeUndefined();
  }, 30_000);

  test("a container that cannot start is removed again and the error hides env secrets", async () => {
    const spec = containerSpec({
      tenant: TENANT,
      service: "broken",
      deploymentId: "dep_eeeeeeee1",
      image: BUSYBOX_IMAGE,
      env: { API_TOKEN: "tok-secret-value" },
      port: 3000,
      resourceSize: "small",
      network: NETWORK_A,
      cmd: ["/no/such/binary"],
    });
    const err = await rt.startContainer(spec).catch((e) => e);
    expect(err).toBeInstanceOf(Upstream);
    expect(err.message).not.toContain("tok-secret-value");
    expect(await rt.inspectContainer(spec.name)).toBeUndefined();
  }, 30_000);
});
