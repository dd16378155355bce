// The host's IPv4 routes, so the tenant subnet pool skips blocks the host already reaches another way
// (a VPN, a second interface, a cloud VPC peering): a tenant bridge there would shadow them.
import { Upstream } from "../lib/errors.ts";

/** Types of `ip route` lines that describe the host's own addresses, not somewhere it routes to. */
const SKIPPED_TYPES = new Set(["local", "broadcast", "anycast", "multicast", "nat"]);
/** Docker's own bridges: their subnets come from Docker's network list, with owners attached. */
const DOCKER_DEV = /^(br-|docker0$|veth)/;

/** Destinations (CIDR) of `ip -4 -o route show table all` output, without default routes and Docker's bridges. */
export function parseRoutes(text: string): string[] {
  const out = new Set<string>();
  for (const line of text.split("\n")) {
    const words = line.trim().split(/\s+/);
    if (!words[0]) continue;
    if (SKIPPED_TYPES.has(words[0])) continue;
    const dest = ["unicast", "unreachable", "blackhole", "prohibit", "throw"].includes(words[0]) ? words[1] : words[0];
    if (!dest || dest === "default") continue;
    const dev = words[words.indexOf("dev") + 1];
    if (words.includes("dev") && dev && DOCKER_DEV.test(dev)) continue;
    out.add(dest.includes("/") ? dest : `${dest}/32`);
  }
  return [...out];
}

/** The host's routes (argv, never a shell). Throws Upstream when `ip` cannot run: a pool must not be guessed. */
export async function hostRoutes(): Promise<string[]> {
  let proc;
  try {
    proc = Bun.spawn(["ip", "-4", "-o", "route", "show", "table", "all"], { stdout: "pipe", stderr: "pipe" });
  } catch (e) {
    throw new Upstream("host", `ip route: ${(e as Error).message}`);
  }
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if (code !== 0) throw new Upstream("host", `ip route: ${err.trim().split("\n")[0] ?? `exit ${code}`}`);
  return parseRoutes(out);
}
