// Debian's real `docker-registry` for tests: htpasswd (bcrypt) auth behind TLS with a node-forge certificate
// for 127.0.0.1 on a free loopback port; Docker's engine trusts it via /etc/docker/certs.d/<host>/ca.crt.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import forge from "node-forge";

export interface TestRegistry {
  url: string;
  host: string;
  caFile: string;
  dir: string;
  stop(): Promise<void>;
}

/** A self-signed CA certificate that is also the server's (SAN IP 127.0.0.1). */
export function selfSignedCert(): { cert: string; key: string } {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = "0" + forge.util.bytesToHex(forge.random.getBytesSync(8));
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const attrs = [{ name: "commonName", value: "staxa test registry 127.0.0.1" }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: "basicConstraints", cA: true },
    { name: "keyUsage", keyCertSign: true, digitalSignature: true, keyEncipherment: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts docker-registry with one htpasswd user; resolves once /v2/ answers 401 over TLS. */
export async function startRegistry(user: string, password: string): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "staxa-e2e-registry-"));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const { cert, key } = selfSignedCert();
  writeFileSync(join(dir, "cert.pem"), cert);
  writeFileSync(join(dir, "key.pem"), key, { mode: 0o600 });
  const hash = (await Bun.password.hash(password, { algorithm: "bcrypt", cost: 6 })).replace(/^\$2[ab]\$/, "$2y$");
  writeFileSync(join(dir, "htpasswd"), `${user}:${hash}\n`);
  writeFileSync(
    join(dir, "config.yml"),
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(dir, "data")}`,
      "http:",
      `  addr: ${host}`,
      `  secret: ${crypto.randomUUID()}`,
      "  tls:",
      `    certificate: ${join(dir, "cert.pem")}`,
      `    key: ${join(dir, "key.pem")}`,
      "auth:",
      "  htpasswd:",
      "    realm: staxa-test",
      `    path: ${join(dir, "htpasswd")}`,
      "",
    ].join("\n"),
  );
  const certsD = `/etc/docker/certs.d/${host}`;
  mkdirSync(certsD, { recursive: true });
  writeFileSync(join(certsD, "ca.crt"), cert);
  const proc = Bun.spawn(["/usr/bin/docker-registry", "serve", join(dir, "config.yml")], { stdout: "ignore", stderr: "pipe" });
  const stop = async () => {
    proc.kill();
    await proc.exited;
    rmSync(certsD, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const res = await fetch(`https://${host}/v2/`, { tls: { ca: cert } } as RequestInit);
      if (res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || proc.exitCode !== null) {
      const err = await new Response(proc.stderr).text().catch(() => "");
      await stop();
      throw new Error(`docker-registry did not start: ${err.slice(-1000)}`);
    }
    await Bun.sleep(100);
  }
  return { url: `https://${host}`, host, caFile: join(dir, "cert.pem"), dir, stop };
}
