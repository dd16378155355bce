// probeTls against a local TLS server holding a self-signed certificate made with node-forge.
import { afterAll, expect, test } from "bun:test";
import forge from "node-forge";
import { probeTls } from "../../../src/proxy/tls-probe.ts";

function selfSigned(host: string, notAfter: Date) {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = "01";
  cert.validity.notBefore = new Date(Date.UTC(2024, 0, 1));
  cert.validity.notAfter = notAfter;
  cert.setSubject([{ name: "commonName", value: host }]);
  cert.setIssuer([{ name: "commonName", value: "Staxa Test CA" }]);
  cert.setExtensions([
    {
      name: "subjectAltName",
      altNames: [
        { type: 2, value: host },
        { type: 2, value: `www.${host}` },
      ],
    },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

const expiry = new Date(Date.UTC(2031, 5, 30, 12, 0, 0));
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  tls: selfSigned("probe.staxa.test", expiry),
  fetch: () => new Response("ok"),
});
afterAll(() => server.stop(true));

test("reports issuer, subject, names and expiry of the served certificate", async () => {
  expect(await probeTls({ host: "127.0.0.1", port: server.port!, servername: "probe.staxa.test" })).toEqual({
    ok: true,
    issuerCn: "Staxa Test CA",
    subjectCn: "probe.staxa.test",
    altNames: ["probe.staxa.test", "www.probe.staxa.test"],
    notBefore: new Date(Date.UTC(2024, 0, 1)),
    notAfter: expiry,
  });
}, 30_000);

test("a closed port is a result, not a throw", async () => {
  const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
  const port = closed.port!;
  closed.stop(true);
  const r = await probeTls({ host: "127.0.0.1", port, servername: "probe.staxa.test", timeoutMs: 2000 });
  expect(r.ok).toBe(false);
});

test("a plain-HTTP listener gives no certificate", async () => {
  const plain = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
  try {
    const r = await probeTls({ host: "127.0.0.1", port: plain.port!, servername: "probe.staxa.test", timeoutMs: 2000 });
    expect(r.ok).toBe(false);
  } finally {
    plain.stop(true);
  }
});
