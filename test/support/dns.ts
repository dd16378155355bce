// DNS for tests: an in-memory zone for unit tests, and for e2e a real server, Debian's pebble-challtestsrv, whose management API adds A/TXT/CNAME records.
//
// It is THE resolver of the appliance under test (STAXA_DNS_SERVERS=127.0.0.1:<port>) and pebble's
// (-dnsserver), so both see the same zone. The default A/AAAA answers are switched off: a name
// nobody added does not resolve (pebble-challtestsrv answers 127.0.0.1 for every name otherwise).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DnsLookup } from "../../src/core/domains/dns-verify.ts";

/** An in-memory zone for unit tests: records by "TYPE name" (e.g. "A app.example.com"), editable at any time. */
export function fakeDns(records: Record<string, string[]> = {}): DnsLookup & { records: Record<string, string[]> } {
  const get = async (k: string) => records[k] ?? [];
  return {
    records,
    a: (n) => get(`A ${n}`),
    aaaa: (n) => get(`AAAA ${n}`),
    cname: (n) => get(`CNAME ${n}`),
    txt: (n) => get(`TXT ${n}`),
  };
}

export interface TestDns {
  /** host:port of the DNS server (UDP and TCP). */
  server: string;
  addA(host: string, addresses: string[]): Promise<void>;
  clearA(host: string): Promise<void>;
  setTxt(host: string, value: string): Promise<void>;
  clearTxt(host: string): Promise<void>;
  setCname(host: string, target: string): Promise<void>;
  stop(): Promise<void>;
}

const fqdn = (h: string) => (h.endsWith(".") ? h : `${h}.`);

export async function startDns(opts: { dnsPort: number; managementPort: number }): Promise<TestDns> {
  const dir = mkdtempSync(join(tmpdir(), "staxa-dns-"));
  const log = join(dir, "challtestsrv.log");
  const proc = Bun.spawn(
    [
      "pebble-challtestsrv",
      "-dns01",
      `127.0.0.1:${opts.dnsPort}`,
      "-management",
      `127.0.0.1:${opts.managementPort}`,
      "-http01",
      "",
      "-https01",
      "",
      "-tlsalpn01",
      "",
      "-defaultIPv4",
      "",
      "-defaultIPv6",
      "",
    ],
    { stdout: Bun.file(log), stderr: "ignore" },
  );
  const mgmt = `http://127.0.0.1:${opts.managementPort}`;
  const post = async (path: string, body: Record<string, unknown>) => {
    const res = await fetch(`${mgmt}${path}`, { method: "POST", body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`pebble-challtestsrv ${path}: ${res.status} ${await res.text()}`);
  };
  const stop = async () => {
    proc.kill();
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`pebble-challtestsrv exited: ${await Bun.file(log).text()}`);
    // The management API answers once the DNS listener is up (it starts first).
    const up = await fetch(`${mgmt}/clear-a`, { method: "POST", body: JSON.stringify({ host: "probe.invalid." }) }).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error("pebble-challtestsrv did not start");
    }
    await Bun.sleep(50);
  }
  return {
    server: `127.0.0.1:${opts.dnsPort}`,
    addA: (host, addresses) => post("/add-a", { host: fqdn(host), addresses }),
    clearA: (host) => post("/clear-a", { host: fqdn(host) }),
    setTxt: (host, value) => post("/set-txt", { host: fqdn(host), value }),
    clearTxt: (host) => post("/clear-txt", { host: fqdn(host) }),
    setCname: (host, target) => post("/set-cname", { host: fqdn(host), target: fqdn(target) }),
    stop,
  };
}
