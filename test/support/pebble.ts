// A real ACME server for e2e tests: Debian's pebble, with its own TLS certificate made here (the package ships none).
//
// pebble validates HTTP-01 on `httpPort` and TLS-ALPN-01 on `tlsPort` of whatever the domain
// resolves to through `dnsServer`: the test points both at Caddy's ports. Nonce rejection and
// validation sleeps are switched off so an order completes in about a second.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPairSync } from "node:crypto";
import forge from "node-forge";

export interface TestPebble {
  /** ACME directory URL (STAXA_ACME_CA). */
  directory: string;
  /** PEM file of the CA that signed pebble's own HTTPS certificate (STAXA_ACME_CA_ROOT). */
  caFile: string;
  caPem: string;
  /** The root pebble issues under, from its management API (/roots/0). */
  issuingRoot(): Promise<string>;
  stop(): Promise<void>;
}

/** A throwaway CA and a localhost/127.0.0.1 certificate it signed (PEM). */
export function makeTlsCert(): { caPem: string; certPem: string; keyPem: string } {
  const forgeKeys = () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    return {
      privateKey: forge.pki.privateKeyFromPem(privateKey.export({ type: "pkcs1", format: "pem" }) as string),
      publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: "spki", format: "pem" }) as string),
    };
  };
  const make = (subject: string, keys: ReturnType<typeof forgeKeys>, serial: string) => {
    const c = forge.pki.createCertificate();
    c.publicKey = keys.publicKey;
    c.serialNumber = serial;
    c.validity.notBefore = new Date(Date.now() - 60_000);
    c.validity.notAfter = new Date(Date.now() + 7 * 86_400_000);
    c.setSubject([{ name: "commonName", value: subject }]);
    return c;
  };
  const caKeys = forgeKeys();
  const ca = make("staxa e2e pebble test CA", caKeys, "01");
  ca.setIssuer(ca.subject.attributes);
  ca.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());
  const leafKeys = forgeKeys();
  const leaf = make("localhost", leafKeys, "02");
  leaf.setIssuer(ca.subject.attributes);
  leaf.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: [
        { type: 2, value: "localhost" },
        { type: 7, ip: "127.0.0.1" },
      ],
    },
  ]);
  leaf.sign(caKeys.privateKey, forge.md.sha256.create());
  return {
    caPem: forge.pki.certificateToPem(ca),
    certPem: forge.pki.certificateToPem(leaf),
    keyPem: forge.pki.privateKeyToPem(leafKeys.privateKey),
  };
}

export async function startPebble(opts: {
  port: number;
  managementPort: number;
  httpPort: number;
  tlsPort: number;
  dnsServer: string;
}): Promise<TestPebble> {
  const dir = mkdtempSync(join(tmpdir(), "staxa-pebble-"));
  const { caPem, certPem, keyPem } = makeTlsCert();
  const caFile = join(dir, "ca.pem");
  writeFileSync(caFile, caPem);
  writeFileSync(join(dir, "cert.pem"), certPem);
  writeFileSync(join(dir, "key.pem"), keyPem, { mode: 0o600 });
  writeFileSync(
    join(dir, "pebble.json"),
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${opts.port}`,
        managementListenAddress: `127.0.0.1:${opts.managementPort}`,
        certificate: join(dir, "cert.pem"),
        privateKey: join(dir, "key.pem"),
        httpPort: opts.httpPort,
        tlsPort: opts.tlsPort,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
      },
    }),
  );
  const log = join(dir, "pebble.log");
  const proc = Bun.spawn(["pebble", "-config", join(dir, "pebble.json"), "-dnsserver", opts.dnsServer], {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" },
    stdout: Bun.file(log),
    stderr: "ignore",
  });
  const directory = `https://127.0.0.1:${opts.port}/dir`;
  const stop = async () => {
    proc.kill();
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`pebble exited: ${await Bun.file(log).text()}`);
    const up = await fetch(directory, { tls: { ca: caPem }, signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`pebble did not answer at ${directory}`);
    }
    await Bun.sleep(100);
  }
  const issuingRoot = async () =>
    (await fetch(`https://127.0.0.1:${opts.managementPort}/roots/0`, { tls: { ca: caPem } })).text();
  return { directory, caFile, caPem, issuingRoot, stop };
}
