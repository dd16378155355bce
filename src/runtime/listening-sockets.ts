// A container's listening TCP sockets, read from /proc/<pid>/net/tcp{,6} on the host (the appliance runs as root):
// the kernel's view of the container's network namespace, with nothing executed inside the app's container.
import { readFile } from "node:fs/promises";
import type Docker from "dockerode";
import type { ListeningSocket } from "./types.ts";

const LISTEN = "0A";
// Docker's embedded DNS resolver listens inside every container on a user-defined network: not the app's socket.
const DOCKER_DNS = "127.0.0.11";

/** Listening sockets in one /proc/net/tcp or tcp6 table (addresses are hex words in host byte order). */
export function parseProcNetTcp(text: string): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const line of text.split("\n").slice(1)) {
    const [, local, , state] = line.trim().split(/\s+/);
    if (state !== LISTEN || !local?.includes(":")) continue;
    const [hex, portHex] = local.split(":") as [string, string];
    out.push({ address: hex.length === 8 ? ipv4(hex) : ipv6(hex), port: parseInt(portHex, 16) });
  }
  return out;
}

// Each 32-bit word is little-endian on the hosts Docker runs on (x86-64, arm64).
const word = (hex: string) => hex.match(/../g)!.reverse();

function ipv4(hex: string): string {
  return word(hex)
    .map((b) => parseInt(b, 16))
    .join(".");
}

function ipv6(hex: string): string {
  const bytes = (hex.match(/.{8}/g) ?? []).flatMap(word).join("");
  const groups = (bytes.match(/.{4}/g) ?? []).map((g) => parseInt(g, 16).toString(16));
  const v4mapped = groups.slice(0, 5).every((g) => g === "0") && groups[5] === "ffff";
  if (v4mapped) return ipv4(hex.slice(24));
  return groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
}

/** The sockets a running container listens on; empty when it is not running or /proc cannot be read. */
export async function listeningSockets(docker: Docker, idOrName: string): Promise<ListeningSocket[]> {
  const pid = (await docker.getContainer(idOrName).inspect()).State?.Pid;
  if (!pid) return [];
  const tables = await Promise.all(["tcp", "tcp6"].map((t) => readFile(`/proc/${pid}/net/${t}`, "utf8").catch(() => "")));
  return tables.flatMap(parseProcNetTcp).filter((s) => s.address !== DOCKER_DNS);
}
