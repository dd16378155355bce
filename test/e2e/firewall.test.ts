// The firewall on real iptables and Docker: an inbound port admits only its source CIDRs; restricted egress
// reaches only the allowed destination. Second source addresses live in network namespaces (veth pairs).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { addNamespace, must, sh, testNamespace } from "../support/netns.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { containerSpec } from "../../src/runtime/container-spec.ts";
import { createFirewall } from "../../src/runtime/firewall.ts";
import { BUSYBOX_IMAGE, dockerCli, dockerRuntime, ensureTestImages, removeByPrefix, uniqueName } from "../support/docker.ts";

const P = uniqueName("staxa-rt-test-fw") + "-";
const TENANT = P.slice("staxa-".length, -1);
const R = Math.random().toString(36).slice(2, 6);
const OCTET = 100 + Math.floor(Math.random() * 100);
const rt = dockerRuntime();
const fw = createFirewall();
const NETWORK = `${P}net`;
const ids = { inbound: `rt-test-in-${R}`, egress: `rt-test-eg-${R}` };
const servers: Array<ReturnType<typeof Bun.spawn>> = [];
const www = mkdtempSync(join(tmpdir(), "staxa-rt-test-fw-"));

/** A namespace whose veth peer is `<net>.2`, reached from the host at `<net>.1`. */
const ns = (name: string, third: number) => testNamespace(`staxa-rt-fw-${R}-${name}`, `srf${R}${name[0]}`, 213, third);
const OK = ns("ok", OCTET);
const BAD = ns("bad", OCTET + 1);

/** GET from inside a namespace; busybox wget's -T segfaults on Debian, so timeout(1) bounds it. */
const fromNs = (n: typeof OK, url: string) => sh(["timeout", "3", "ip", "netns", "exec", n.name, "busybox", "wget", "-qO-", url]);
const fromContainer = (id: string, url: string) => dockerCli(["exec", id, "timeout", "3", "wget", "-qO-", url]);

let web = { id: "", ip: "" };
let subnet = "";

beforeAll(async () => {
  await ensureTestImages();
  await fw.setup();
  await addNamespace(OK);
  await addNamespace(BAD);
  for (const [n, body] of [
    [OK, "ok-server"],
    [BAD, "bad-server"],
  ] as const) {
    const dir = join(www, n.name);
    await must(["mkdir", "-p", dir]);
    writeFileSync(join(dir, "index.html"), `${body}\n`);
    servers.push(
      Bun.spawn(["ip", "netns", "exec", n.name, "busybox", "httpd", "-f", "-p", "8080", "-h", dir], {
        stdout: "ignore",
        stderr: "ignore",
      }),
    );
  }
  await rt.ensureNetwork(NETWORK, { "staxa.test": P });
  subnet = (await rt.networkSubnet!(NETWORK))!;
  const c = await rt.startContainer(
    containerSpec({
      tenant: TENANT,
      service: "web",
      deploymentId: "dep_fw000001",
      image: BUSYBOX_IMAGE,
      env: {},
      port: 3000,
      resourceSize: "small",
      network: NETWORK,
      cmd: ["busybox", "httpd", "-f", "-p", "3000", "-h", "/etc"],
      user: "10001",
    }),
  );
  web = { id: c.id, ip: c.ip! };
}, 60_000);

afterAll(async () => {
  await fw.remove(ids.inbound).catch(() => undefined);
  await fw.remove(ids.egress).catch(() => undefined);
  for (const s of servers) s.kill();
  await Promise.all(servers.map((s) => s.exited));
  for (const n of [OK, BAD]) await sh(["ip", "netns", "del", n.name]);
  await removeByPrefix(P);
  rmSync(www, { recursive: true, force: true });
}, 60_000);

describe("firewall on the real host", () => {
  test("subnet of the tenant network is known", () => {
    expect(subnet).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
  });

  test("inbound port: an allowed source connects, another source does not; removal closes it", async () => {
    const hostPort = 31000 + Math.floor(Math.random() * 900);
    await fw.addInbound({
      id: ids.inbound,
      protocol: "tcp",
      hostPort,
      targetIp: web.ip,
      targetPort: 3000,
      sourceCidrs: [`${OK.ip}/32`],
    });
    expect(await fw.listIds()).toContain(ids.inbound);
    const ok = await fromNs(OK, `http://${OK.hostIp}:${hostPort}/passwd`);
    expect(ok.out).toContain("app:x:10001");
    const bad = await fromNs(BAD, `http://${BAD.hostIp}:${hostPort}/passwd`);
    expect(bad.code).not.toBe(0);
    expect(bad.out).toBe("");
    await fw.remove(ids.inbound);
    expect(await fw.listIds()).not.toContain(ids.inbound);
    expect((await fromNs(OK, `http://${OK.hostIp}:${hostPort}/passwd`)).code).not.toBe(0);
  }, 30_000);

  test("restricted egress reaches only the allowed destination; removing the policy reopens", async () => {
    expect((await fromContainer(web.id, `http://${OK.ip}:8080/`)).out).toBe("ok-server\n");
    expect((await fromContainer(web.id, `http://${BAD.ip}:8080/`)).out).toBe("bad-server\n");
    await fw.setEgress({ id: ids.egress, subnet, allow: [{ cidr: `${OK.ip}/32`, port: 8080, protocol: "tcp" }] });
    expect((await fromContainer(web.id, `http://${OK.ip}:8080/`)).out).toBe("ok-server\n");
    const blocked = await fromContainer(web.id, `http://${BAD.ip}:8080/`);
    expect(blocked.code).not.toBe(0);
    expect(blocked.out).toBe("");
    await fw.remove(ids.egress);
    expect((await fromContainer(web.id, `http://${BAD.ip}:8080/`)).out).toBe("bad-server\n");
  }, 30_000);
});
