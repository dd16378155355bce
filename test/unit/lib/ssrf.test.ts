// The SSRF guard: refused URLs name the field; resolution is pinned; redirects are re-checked.
import { describe, expect, test, afterAll } from "bun:test";
import { checkOutboundUrl, safeFetch, type LookupFn } from "../../../src/lib/ssrf.ts";
import { classifyIp } from "../../../src/lib/ip-ranges.ts";
import { Invalid } from "../../../src/lib/errors.ts";

/** A hosts-file style resolver: names map to fixed addresses, everything else fails. */
const hosts =
  (table: Record<string, string[]>): LookupFn =>
  async (host) => {
    const list = table[host];
    if (!list) throw new Error("ENOTFOUND");
    return list.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
const lookup = hosts({
  "public.example": ["93.184.215.14"],
  "evil.example": ["127.0.0.1"],
  "split.example": ["93.184.215.14", "10.0.0.5"],
  localhost: ["127.0.0.1", "::1"],
});

async function refusal(url: unknown, opts: Partial<Parameters<typeof checkOutboundUrl>[1]> = {}) {
  try {
    await checkOutboundUrl(url, { field: "url", allowHttp: true, lookup, ...opts });
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("checkOutboundUrl refuses", () => {
  const cases: Array<[string, unknown]> = [
    ["cloud metadata", "http://169.254.169.254/"],
    ["Caddy admin", "http://127.0.0.1:2019/"],
    ["file scheme", "file:///etc/passwd"],
    ["ftp scheme", "ftp://x"],
    ["gopher scheme", "gopher://public.example/"],
    ["credentials", "https://user:pass@public.example/"],
    ["IPv6 loopback", "http://[::1]/"],
    ["hex IPv4 loopback", "http://0x7f000001/"],
    ["decimal IPv4 loopback", "http://2130706433/"],
    ["localhost", "http://localhost/"],
    ["garbage", "not a url"],
    ["empty", ""],
    ["non-string", 42],
    ["IPv4-mapped IPv6 loopback", "http://[::ffff:127.0.0.1]/"],
    ["IPv4-mapped IPv6 metadata (hex)", "http://[::ffff:a9fe:a9fe]/"],
    ["private 10/8", "http://10.1.2.3/"],
    ["private 172.16/12", "http://172.20.0.1/"],
    ["private 192.168/16", "http://192.168.1.1/"],
    ["CGNAT", "http://100.64.0.1/"],
    ["zero network", "http://0.0.0.0/"],
    ["multicast", "http://224.0.0.1/"],
    ["unique local IPv6", "http://[fd00::1]/"],
    ["link-local IPv6", "http://[fe80::1]/"],
    ["name resolving to loopback", "https://evil.example/"],
    ["name with one private address", "https://split.example/"],
    ["name that does not resolve", "https://nowhere.example/"],
  ];
  for (const [name, url] of cases) {
    test(name, async () => {
      const err = await refusal(url);
      expect(err).toBeInstanceOf(Invalid);
      expect((err as Invalid).details.field).toBe("url");
    });
  }

  test("http when only https is allowed", async () => {
    expect(await refusal("http://public.example/", { allowHttp: false })).toBeInstanceOf(Invalid);
  });

  test("the appliance's own ports even when private targets are allowed", async () => {
    for (const url of [
      "http://127.0.0.1:2019/load",
      "http://localhost:2019/",
      "http://[::1]:8080/api/v1",
      "http://127.0.0.1:9999/",
      "http://0.0.0.0:2019/",
    ]) {
      expect(await refusal(url, { allowPrivate: true, ownPorts: [2019, 8080, 9999] })).toBeInstanceOf(Invalid);
    }
  });

  test("link-local metadata even when private targets are allowed", async () => {
    expect(await refusal("http://169.254.169.254/latest/meta-data", { allowPrivate: true })).toBeInstanceOf(Invalid);
  });
});

describe("checkOutboundUrl allows", () => {
  test("a public https URL, returning the address it checked", async () => {
    const c = await checkOutboundUrl("https://public.example/hook", { field: "url", lookup });
    expect(c).toMatchObject({ address: "93.184.215.14", family: 4, port: 443 });
  });
  test("loopback on another port when private targets are allowed", async () => {
    const c = await checkOutboundUrl("http://127.0.0.1:4000/", { field: "url", allowPrivate: true, allowHttp: true, lookup });
    expect(c.address).toBe("127.0.0.1");
  });
});

test("classifyIp table", () => {
  const table: Array<[string, string]> = [
    ["8.8.8.8", "public"],
    ["127.0.0.1", "private"],
    ["169.254.169.254", "blocked"],
    ["::ffff:10.0.0.1", "private"],
    ["2002:7f00:1::", "private"],
    ["64:ff9b::a9fe:a9fe", "blocked"],
    ["2606:4700::1", "public"],
    ["::", "blocked"],
    ["ff02::1", "blocked"],
  ];
  for (const [ip, cls] of table) expect([ip, classifyIp(ip).cls]).toEqual([ip, cls]);
});

describe("safeFetch", () => {
  const target = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (req) => new Response(`host=${req.headers.get("host")} ${req.method} ${new URL(req.url).pathname}`),
  });
  const redirector = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const p = new URL(req.url).pathname;
      if (p === "/to-metadata") return Response.redirect("http://169.254.169.254/latest", 302);
      if (p === "/to-target") return Response.redirect(`http://rebind.example:${target.port}/final`, 307);
      if (p === "/to-admin") return Response.redirect("http://127.0.0.1:2019/load", 302);
      if (p === "/loop") return Response.redirect("/loop", 302);
      if (p === "/big") return new Response("x".repeat(10_000));
      return new Response("hang", { status: 200 });
    },
  });
  afterAll(() => {
    target.stop(true);
    redirector.stop(true);
  });
  const opts = {
    field: "url",
    allowHttp: true,
    allowPrivate: true,
    ownPorts: [2019],
    lookup: hosts({ "rebind.example": ["127.0.0.1"] }),
  };

  test("connects to the checked address with the original Host header", async () => {
    const res = await safeFetch(`http://rebind.example:${target.port}/x`, { method: "POST", body: "{}" }, opts);
    expect(await res.text()).toBe(`host=rebind.example:${target.port} POST /x`);
  });
  test("follows a redirect and keeps the method on 307", async () => {
    const res = await safeFetch(`http://127.0.0.1:${redirector.port}/to-target`, { method: "POST", body: "{}" }, opts);
    expect(await res.text()).toBe(`host=rebind.example:${target.port} POST /final`);
  });
  test("refuses a redirect to a private address", async () => {
    const err = await safeFetch(`http://127.0.0.1:${redirector.port}/to-metadata`, {}, opts).catch((e) => e);
    expect(err).toBeInstanceOf(Invalid);
  });
  test("refuses a redirect to the Caddy admin port even when private targets are allowed", async () => {
    const err = await safeFetch(`http://127.0.0.1:${redirector.port}/to-admin`, {}, opts).catch((e) => e);
    expect(err).toBeInstanceOf(Invalid);
    expect(err.details.reason).toBe("own_port");
  });
  test("stops after 5 redirects", async () => {
    const err = await safeFetch(`http://127.0.0.1:${redirector.port}/loop`, {}, opts).catch((e) => e);
    expect(String(err.message)).toContain("too many redirects");
  });
  test("caps the response size", async () => {
    const err = await safeFetch(`http://127.0.0.1:${redirector.port}/big`, {}, { ...opts, maxBytes: 1000 }).catch((e) => e);
    expect(String(err.message)).toContain("exceeds 1000 bytes");
  });
  test("times out a receiver that never answers", async () => {
    const hang = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Promise<Response>(() => {}) });
    const t0 = Date.now();
    const err = await safeFetch(`http://127.0.0.1:${hang.port}/`, {}, { ...opts, timeoutMs: 300 }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(Date.now() - t0).toBeLessThan(3000);
    hang.stop(true);
  });
  test("https to the checked address verifies the certificate against the host name", async () => {
    const { cert, key } = await selfSigned("hooks.example");
    const tlsSrv = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      tls: { cert, key },
      fetch: (req) => new Response(`tls host=${req.headers.get("host")}`),
    });
    try {
      const ok = await safeFetch(
        `https://hooks.example:${tlsSrv.port}/`,
        {},
        { ...opts, lookup: hosts({ "hooks.example": ["127.0.0.1"], "other.example": ["127.0.0.1"] }), ca: cert },
      );
      expect(await ok.text()).toBe(`tls host=hooks.example:${tlsSrv.port}`);
      const bad = await safeFetch(
        `https://other.example:${tlsSrv.port}/`,
        {},
        { ...opts, lookup: hosts({ "other.example": ["127.0.0.1"] }), ca: cert },
      ).catch((e) => e);
      expect(bad).toBeInstanceOf(Error);
    } finally {
      tlsSrv.stop(true);
    }
  });
});

/** A throwaway self-signed certificate for `name` (openssl is on every test machine here). */
async function selfSigned(name: string): Promise<{ cert: string; key: string }> {
  const dir = `/tmp/staxa-ssrf-${process.pid}-${Date.now()}`;
  const p = Bun.spawnSync([
    "openssl",
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    `${dir}.key`,
    "-out",
    `${dir}.crt`,
    "-days",
    "1",
    "-subj",
    `/CN=${name}`,
    "-addext",
    `subjectAltName=DNS:${name}`,
  ]);
  if (p.exitCode !== 0) throw new Error(p.stderr.toString());
  const out = { cert: await Bun.file(`${dir}.crt`).text(), key: await Bun.file(`${dir}.key`).text() };
  await Bun.$`rm -f ${dir}.key ${dir}.crt`;
  return out;
}
