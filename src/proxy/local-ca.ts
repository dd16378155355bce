// Which CA issues tenant certificates: STAXA_ACME_CA, except that a base domain no public CA can issue for
// (localhost, an IP address, a reserved name) gets Caddy's internal CA by default. Let's Encrypt would refuse
// every order for such names, and each TLS handshake would hang waiting for a certificate that never comes.

/** STAXA_ACME_CA's default. */
export const LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory";

// RFC 6761 / 6762 / 8375 names and the common private suffix no public CA issues for.
const RESERVED = /(^|\.)(localhost|test|example|invalid|local|internal|home\.arpa)$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** True for a base domain no public CA issues certificates for. */
export function isLocalDomain(domain: string): boolean {
  const d = domain.toLowerCase().replace(/\.$/, "");
  return RESERVED.test(d) || IPV4.test(d) || d.includes(":");
}

/** The ACME directory, or "internal" (Caddy's own CA): a set STAXA_ACME_CA wins; the default yields to a local base domain. */
export function acmeCaFor(config: { acmeCa: string; baseDomain: string }): string {
  return config.acmeCa === LETS_ENCRYPT && isLocalDomain(config.baseDomain) ? "internal" : config.acmeCa;
}
