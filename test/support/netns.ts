// Network namespaces with a veth pair: a second host on this machine, for tests of what crosses the firewall.

/** Runs argv; its exit code and stdout. */
export async function sh(argv: string[]): Promise<{ code: number; out: string }> {
  const p = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const [code, out] = await Promise.all([p.exited, new Response(p.stdout).text()]);
  return { code, out };
}

/** Runs argv and throws when it fails. */
export async function must(argv: string[]): Promise<void> {
  const r = await sh(argv);
  if (r.code !== 0) throw new Error(`${argv.join(" ")} failed (${r.code})`);
}

export interface TestNamespace {
  name: string;
  /** veth end on the host, and its peer inside the namespace. */
  host: string;
  peer: string;
  hostIp: string;
  ip: string;
}

/** A namespace `<name>` whose veth peer is `10.<second>.<third>.2`, reached from the host at `.1`. */
export function testNamespace(name: string, ifName: string, second: number, third: number): TestNamespace {
  return { name, host: ifName, peer: `${ifName}p`, hostIp: `10.${second}.${third}.1`, ip: `10.${second}.${third}.2` };
}

export async function addNamespace(n: TestNamespace): Promise<void> {
  await must(["ip", "netns", "add", n.name]);
  await must(["ip", "link", "add", n.host, "type", "veth", "peer", "name", n.peer]);
  await must(["ip", "link", "set", n.peer, "netns", n.name]);
  await must(["ip", "addr", "add", `${n.hostIp}/30`, "dev", n.host]);
  await must(["ip", "link", "set", n.host, "up"]);
  const inNs = ["ip", "netns", "exec", n.name];
  await must([...inNs, "ip", "addr", "add", `${n.ip}/30`, "dev", n.peer]);
  await must([...inNs, "ip", "link", "set", n.peer, "up"]);
  await must([...inNs, "ip", "link", "set", "lo", "up"]);
  await must([...inNs, "ip", "route", "add", "default", "via", n.hostIp]);
}
