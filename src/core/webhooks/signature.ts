// The Staxa-Signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, and its verifier.
import { createHmac } from "node:crypto";
import { safeEqual } from "../../lib/crypto.ts";

export const SIGNATURE_HEADER = "Staxa-Signature";
/** Receivers reject signatures older (or newer) than this: replay protection. */
export const DEFAULT_TOLERANCE_SEC = 300;

function hmacHex(secret: string, t: number, body: string): string {
  return createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
}

/** The header value for `body` signed at unix time `t`. */
export function signPayload(secret: string, body: string, t = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${hmacHex(secret, t, body)}`;
}

/**
 * True when `header` carries a v1 signature of `body` under `secret`, made within `toleranceSec` of now.
 * Several v1 entries are accepted (one of them must match), so a secret can be rotated without a gap.
 */
export function verifyStaxaSignature(
  secret: string,
  header: string | null | undefined,
  body: string,
  toleranceSec = DEFAULT_TOLERANCE_SEC,
  nowSec = Math.floor(Date.now() / 1000),
): boolean {
  if (!header || header.length > 4096) return false;
  let t: number | undefined;
  const sigs: string[] = [];
  for (const part of header.split(",")) {
    const [k, v] = part.trim().split("=", 2);
    if (k === "t" && /^\d{1,12}$/.test(v ?? "")) t = Number(v);
    else if (k === "v1" && /^[0-9a-f]{64}$/.test(v ?? "")) sigs.push(v);
  }
  if (t === undefined || sigs.length === 0) return false;
  if (Math.abs(nowSec - t) > toleranceSec) return false;
  const expected = hmacHex(secret, t, body);
  return sigs.some((s) => safeEqual(s, expected));
}
