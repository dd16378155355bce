// What certificate Caddy actually serves for a host: a TLS handshake with SNI, the certificate parsed.
import { connect } from "node:tls";
import { X509Certificate } from "node:crypto";

export type TlsProbe =
  | { ok: true; issuerCn: string; subjectCn: string; altNames: string[]; notBefore: Date; notAfter: Date }
  | { ok: false; reason: string };

const cn = (dn: string) => /(?:^|\n)CN=([^\n]*)/.exec(dn)?.[1] ?? "";

/**
 * Handshakes with `servername` at host:port and reports the served certificate without trusting
 * it (ssl_status wants what is served, valid or not). Never throws: a refused handshake is a result.
 */
export function probeTls(opts: { host: string; port: number; servername: string; timeoutMs?: number }): Promise<TlsProbe> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: TlsProbe) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(r);
    };
    const socket = connect({ host: opts.host, port: opts.port, servername: opts.servername, rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate()?.raw;
      // Bun calls back even when the server ended the handshake with an alert; no certificate means none was served.
      if (!raw) return finish({ ok: false, reason: `no certificate served for ${opts.servername}` });
      try {
        const x = new X509Certificate(raw);
        const altNames = (x.subjectAltName ?? "")
          .split(", ")
          .filter((s) => s.startsWith("DNS:"))
          .map((s) => s.slice(4));
        finish({
          ok: true,
          issuerCn: cn(x.issuer),
          subjectCn: cn(x.subject),
          altNames,
          notBefore: new Date(x.validFrom),
          notAfter: new Date(x.validTo),
        });
      } catch (err) {
        finish({ ok: false, reason: `unreadable certificate: ${(err as Error).message}` });
      }
    });
    socket.on("error", (err) => finish({ ok: false, reason: err.message }));
    socket.setTimeout(opts.timeoutMs ?? 5000, () => finish({ ok: false, reason: "TLS handshake timed out" }));
  });
}
