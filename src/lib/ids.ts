// Ids are a type prefix plus random base62 characters; times are ISO 8601 UTC.
const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** Random lower-case alphanumeric string of `n` characters (rejection-sampled, unbiased). */
export function randomAlnum(n: number, alphabet = ALPHABET): string {
  const out: string[] = [];
  const limit = 256 - (256 % alphabet.length);
  while (out.length < n) {
    for (const b of crypto.getRandomValues(new Uint8Array(n * 2))) {
      if (b < limit && out.length < n) out.push(alphabet[b % alphabet.length]);
    }
  }
  return out.join("");
}

export type IdPrefix = "prv" | "usr" | "key" | "ten" | "svc" | "dep" | "dom" | "nr" | "reg" | "whk" | "whd" | "evt";

/** A new id such as `ten_k3j9x0a1b2c3d4e5`. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomAlnum(16)}`;
}

/** Current time as ISO 8601 UTC with seconds precision kept (milliseconds dropped). */
export function nowIso(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}
