// Keeps git away from loopback, private and link-local hosts unless STAXA_ALLOW_PRIVATE_TARGETS is set.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { Invalid, Upstream } from "../lib/errors.ts";

/** True for loopback, private, link-local, CGNAT, unspecified and unique-local addresses. */
export function isPrivateAddress(ip: string): boolean {
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/i.exec(ip);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127) ||
      a >= 224
    );
  }
  const v6 = ip.toLowerCase();
  return v6 === "::" || v6 === "::1" || /^f[cd]/.test(v6) || /^fe[89ab]/.test(v6);
}

/** Resolves `host` and refuses it when any address is private. git resolves again itself: this narrows, not closes, rebinding. */
export async function assertPublicHost(host: string): Promise<void> {
  if (host === "") return;
  if (host === "localhost" || host.endsWith(".localhost")) throw new Invalid("repo_url", "repo_url points at this server");
  let addrs: string[];
  if (isIP(host)) addrs = [host];
  else {
    try {
      addrs = (await lookup(host, { all: true })).map((a) => a.address);
    } catch {
      throw new Upstream("git", `cannot resolve the repository host ${host}`);
    }
  }
  if (addrs.some(isPrivateAddress)) throw new Invalid("repo_url", "repo_url points at a private or loopback address");
}
