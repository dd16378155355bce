// A custom domain name validated once, at the edge, to the narrowest form: lower-case RFC 1123 ASCII.
//
// The name becomes a Caddy map input, a certificate subject and a DNS query, so everything that
// is not a plain public host name is refused: IP literals, ports, paths, schemes, spaces,
// localhost, single labels, wildcards (certificates here come from HTTP-01/TLS-ALPN-01, which
// cannot prove a wildcard), broken punycode, and the appliance's own base domain and hosts under it.
import { domainToASCII, domainToUnicode } from "node:url";
import { isIP } from "node:net";
import { Invalid } from "../../lib/errors.ts";

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const refuse = (msg: string) => new Invalid("domain", msg);

/** True when an `xn--` label decodes to Unicode and re-encodes to itself (garbage punycode does not). */
export function validPunycodeLabel(label: string): boolean {
  const unicode = domainToUnicode(label);
  return unicode !== "" && !unicode.startsWith("xn--") && domainToASCII(unicode) === label;
}

/** The normalised domain (lower-case ASCII, no trailing dot), or Invalid naming `domain`. */
export function parseDomainName(raw: unknown, baseDomain: string): string {
  if (typeof raw !== "string" || raw === "") throw refuse("domain is required: a host name such as app.example.com");
  if (raw.length > 253 * 4) throw refuse("domain must be at most 253 characters");
  if (/\s/.test(raw)) throw refuse("domain must not contain spaces");
  if (raw.includes("://")) throw refuse("domain must be a bare host name, without a scheme (no https://)");
  if (/[/?#]/.test(raw)) throw refuse("domain must be a bare host name, without a path, query or fragment");
  if (raw.startsWith("[") || isIP(raw.replace(/^\[|\]$/g, ""))) throw refuse("domain must be a host name, not an IP address");
  if (raw.includes(":")) throw refuse("domain must not contain a port");
  if (raw.includes("*")) throw refuse("wildcard domains are not supported: add each host name");
  let name = raw.toLowerCase().replace(/\.$/, "");
  if (/[^\x00-\x7f]/.test(name)) {
    // An internationalised name is accepted in its Unicode form and stored as punycode.
    const ascii = domainToASCII(name);
    if (!ascii) throw refuse("domain is not a valid internationalised host name");
    name = ascii;
  }
  if (name.length > 253) throw refuse("domain must be at most 253 characters");
  const labels = name.split(".");
  if (labels.length < 2) throw refuse("domain needs at least two labels, e.g. example.com");
  for (const l of labels) {
    if (l.length === 0) throw refuse("domain has an empty label (two dots in a row, or a leading dot)");
    if (l.length > 63) throw refuse("each label of domain must be at most 63 characters");
    if (!LABEL.test(l)) throw refuse(`label "${l.slice(0, 63)}" of domain may hold only a-z, 0-9 and inner '-'`);
    if (l.startsWith("xn--") && !validPunycodeLabel(l)) throw refuse(`label "${l}" of domain is not valid punycode`);
  }
  if (/^\d+$/.test(labels[labels.length - 1])) throw refuse("domain must be a host name, not an IP address");
  if (name === "localhost" || name.endsWith(".localhost")) throw refuse("localhost names cannot be custom domains");
  if (name === baseDomain) throw refuse("domain is the appliance's own base domain");
  if (name.endsWith(`.${baseDomain}`)) throw refuse(`hosts under ${baseDomain} are tenant subdomains, not custom domains`);
  return name;
}
