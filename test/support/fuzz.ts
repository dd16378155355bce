// Malformed-request generators for the OpenAPI fuzz test: a seeded PRNG (a failure replays from its seed) and
// pools of hostile values for path segments, query parameters, JSON fields, raw bodies and Content-Types.

/** mulberry32: small, fast, and the same sequence for the same seed on every run. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]!, chance: (p: number) => next() < p };
}
export type Rng = ReturnType<typeof prng>;

/** Numbers as text: what a query string or a path segment carries. */
const NUMERIC_TEXT = [
  "1e309",
  "-1e309",
  "99999999999999999999",
  "9223372036854775808",
  "9007199254740993",
  "1.5",
  "-1",
  "-0",
  "0",
  "0x10",
  "1e2",
  " 5",
  "5 ",
  "+5",
  "NaN",
  "Infinity",
  "٣",
  "1_000",
  "00000000000000000001",
];

/** Hostile strings, raw (the URL builder percent-encodes what a URL cannot hold). */
const STRINGS = [
  "",
  " ",
  "x",
  "a".repeat(300),
  "a".repeat(20_000),
  "ü💥日本語",
  "\u0000",
  "a\u0000b",
  "\u202eevil",
  "\r\nX-Injected: 1",
  "../../etc/passwd",
  "' OR '1'='1",
  "$(id)",
  "`id`",
  "${7*7}",
  "<script>alert(1)</script>",
  "null",
  "true",
  "[]",
  "{}",
  "sk_live_",
  "http://169.254.169.254/latest/",
  "file:///etc/passwd",
  "git@github.com:a/b.git",
  "-rf",
  "--upload-pack=touch /tmp/x",
  "\uFFFF",
  "\uD800",
  ...NUMERIC_TEXT,
];

/** Path segments as they appear in the URL: raw, percent-encoded, and encodings that do not decode. */
const PATH_SEGMENTS = [
  "x",
  "%00",
  "%2e%2e",
  "..",
  ".",
  "%2F",
  "a%2Fb",
  "%ZZ",
  "%",
  "%E0%A4%A",
  "%F0%9F%92%A5",
  "%C0%AF",
  "%0d%0a",
  "%20",
  "+",
  "ten_" + "a".repeat(500),
  "a".repeat(5000),
  ...NUMERIC_TEXT,
];

/** encodeURIComponent, except that a lone surrogate (which it cannot encode) becomes its WTF-8 bytes. */
const enc = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return "%ED%A0%80";
  }
};

/** One value of a query parameter; integer parameters get in-range values now and then, so deeper code runs too. */
export function queryValue(r: Rng, schema: { type?: string; minimum?: number; maximum?: number }): string {
  const numeric = /"(integer|number|numeric)"/.test(JSON.stringify(schema)); // however the schema spells it
  if (numeric && r.chance(0.3))
    return String((schema.minimum ?? 1) + r.int(Math.min(50, (schema.maximum ?? 50) - (schema.minimum ?? 1) + 1)));
  if (numeric && r.chance(0.6)) return enc(r.pick(NUMERIC_TEXT));
  if (r.chance(0.3)) return r.pick(["%00", "%FF", "%ZZ", "%E2%80%AE", "%0a", "a%26b%3Dc", "%5B%5D"]);
  return enc(r.pick(STRINGS));
}

/** A path segment: the real id now and then (the handler then runs), else garbage. */
export function pathSegment(r: Rng, real: string | undefined): string {
  if (real !== undefined && r.chance(0.5)) return encodeURIComponent(real);
  return r.chance(0.5) ? r.pick(PATH_SEGMENTS) : enc(r.pick(STRINGS));
}

/** A JSON value of the wrong shape (or a plausible one), for a field whose schema is `schema`. */
export function jsonValue(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 2 ? 5 : 8)) {
    case 0:
      return r.pick(STRINGS);
    case 1:
      return r.pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 2, 2 ** 63, 5e-324, 65535, 65536, 3000]);
    case 2:
      return r.pick([true, false]);
    case 3:
      return null;
    case 4:
      return "x".repeat(r.pick([1, 64, 65, 101, 256, 4097, 70_000]));
    case 5:
      return Array.from({ length: r.pick([0, 1, 3, 70]) }, () => jsonValue(r, depth + 1));
    case 6:
      return { [r.pick(["$gt", "__proto__", "constructor", "a", ""])]: jsonValue(r, depth + 1) };
    default:
      return r.pick([
        { path: "/health" },
        [{ name: "data", mount_path: "/data" }],
        ["web"],
        { KEY: "v" },
        ["sh", "-c", "id"],
        "image",
        "github",
        "inbound",
        "tcp",
      ]);
  }
}

type Schema = { type?: string; properties?: Record<string, Schema>; required?: string[]; items?: Schema; anyOf?: Schema[] };

/** An object built from a body schema: fields with hostile values, required ones sometimes missing, unknown ones sometimes added. */
export function bodyObject(r: Rng, schema: Schema | undefined): Record<string, unknown> {
  const s = schema?.anyOf?.find((x) => x.type === "object") ?? schema;
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(s?.properties ?? {})) {
    if (r.chance(0.35)) continue;
    out[name] = prop.type === "array" && prop.items?.properties && r.chance(0.5) ? [bodyObject(r, prop.items)] : jsonValue(r);
  }
  if (r.chance(0.2)) out[r.pick(["unknown_field", "Name", "name ", "id", "provider_id", "__proto__"])] = jsonValue(r);
  return out;
}

/** A body as sent: JSON of an object, or text that is not JSON, not an object, duplicated, deep or empty. */
export function rawBody(r: Rng, schema: Schema | undefined): string {
  switch (r.int(10)) {
    case 0:
      return r.pick([
        "{",
        '{"a":',
        "nul",
        "{'a':1}",
        '{"a":1,}',
        "\u0000",
        "\uFEFF{}",
        '{"a":"\\ud800"}',
        "name=x&y=1",
        "<xml/>",
        '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--',
      ]);
    case 1:
      return r.pick(["[]", "1", '"s"', "null", "true", "[{}]", "1e309"]);
    case 2:
      return r.pick(["", " ", "\n"]);
    case 3: {
      const depth = r.pick([100, 5000, 100_000]);
      return r.chance(0.5) ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
    }
    case 4: {
      const o = JSON.stringify(bodyObject(r, schema)).slice(1, -1);
      return `{${o}${o ? "," : ""}${o}}`; // every key twice
    }
    default:
      return JSON.stringify(bodyObject(r, schema));
  }
}

export const CONTENT_TYPES = [
  undefined,
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "application/octet-stream",
  "application/json; charset=utf-16",
  "garbage",
  "",
];
