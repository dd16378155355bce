// Custom domain names: the narrowest form accepted (RFC 1123, lower-case ASCII), everything else refused naming `domain`.
import { describe, expect, test } from "bun:test";
import { parseDomainName, validPunycodeLabel } from "../../../src/core/domains/name.ts";
import { Invalid } from "../../../src/lib/errors.ts";

const BASE = "staxa.test";
const parse = (raw: unknown) => parseDomainName(raw, BASE);

describe("accepted and normalised", () => {
  const good: Array<[string, string]> = [
    ["app.example.com", "app.example.com"],
    ["App.Example.COM", "app.example.com"],
    ["example.com.", "example.com"],
    ["a-b.c-d.example.co.uk", "a-b.c-d.example.co.uk"],
    ["1app.example.com", "1app.example.com"],
    ["xn--bcher-kva.de", "xn--bcher-kva.de"],
    ["bücher.de", "xn--bcher-kva.de"],
    ["app.example.test", "app.example.test"],
    [`${"a".repeat(63)}.example.com`, `${"a".repeat(63)}.example.com`],
    ["staxa.test.example.com", "staxa.test.example.com"],
  ];
  for (const [raw, want] of good) test(JSON.stringify(raw), () => expect(parse(raw)).toBe(want));
});

describe("refused with 400 naming domain", () => {
  const long = `${Array(5).fill("a".repeat(60)).join(".")}.com`; // 300+ characters
  const bad: Array<[string, unknown]> = [
    ["localhost", "localhost"],
    ["*.localhost", "app.localhost"],
    ["IPv4 literal", "1.2.3.4"],
    ["IPv6 literal", "[::1]"],
    ["bare IPv6", "::1"],
    ["numeric TLD", "app.123"],
    ["wildcard", "*.example.com"],
    ["space inside", "exa mple.com"],
    ["leading space", " example.com"],
    ["300 characters", long],
    ["label of 64", `${"a".repeat(64)}.example.com`],
    ["xn-- garbage", "xn--garbage.com"],
    ["xn-- empty", "xn--.com"],
    ["single label", "intranet"],
    ["scheme", "https://example.com"],
    ["path", "example.com/path"],
    ["query", "example.com?x=1"],
    ["port", "example.com:8443"],
    ["underscore", "my_app.example.com"],
    ["leading hyphen", "-app.example.com"],
    ["trailing hyphen", "app-.example.com"],
    ["double dot", "app..example.com"],
    ["leading dot", ".example.com"],
    ["caddy placeholder", "{http.request.host}.example.com"],
    ["regex input", "~.*"],
    ["base domain", BASE],
    ["base domain upper-case", "STAXA.TEST"],
    ["tenant subdomain", "acme.staxa.test"],
    ["service subdomain", "api-acme.staxa.test"],
    ["empty", ""],
    ["not a string", 42],
    ["null", null],
    ["newline", "example.com\nevil.com"],
    ["NUL", "example.com\u0000"],
  ];
  for (const [name, raw] of bad) {
    test(name, () => {
      let err: unknown;
      try {
        parse(raw);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Invalid);
      expect((err as Invalid).details.field).toBe("domain");
    });
  }
});

test("punycode labels must round-trip", () => {
  expect([
    validPunycodeLabel("xn--bcher-kva"),
    validPunycodeLabel("xn--fiq"),
    validPunycodeLabel("xn--zz"),
    validPunycodeLabel("xn--abc-"),
  ]).toEqual([true, true, false, false]);
});
