// Tenant environment variables: validation, masking for display, sealing at rest.
import { Invalid } from "../lib/errors.ts";
import type { SecretBox } from "../lib/crypto.ts";

export const ENV_LIMITS = { maxKeys: 200, maxKeyLength: 128, maxValueBytes: 32_768, maxTotalBytes: 262_144 } as const;
const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_NAME = /PASSWORD|PASSWD|SECRET|TOKEN|KEY|PRIVATE|CREDENTIAL/i;
// scheme://user:pass@host or scheme://token@host: credentials in a URL.
const URL_WITH_CREDENTIALS = /^[a-z][a-z0-9+.-]*:\/\/[^\/\s@]+@/i;
/** Names the loader or the platform owns: setting them would let a tenant subvert its own container start. */
const FORBIDDEN_KEYS = new Set(["LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT"]);

/** A variable name the platform accepts; `field` is named for a malformed name, `where` for a reserved one. */
export function assertEnvName(k: string, field: string, where = field): void {
  if (!KEY_RE.test(k) || k.length > ENV_LIMITS.maxKeyLength)
    throw new Invalid(
      field,
      `Invalid variable name ${JSON.stringify(k)}: use letters, digits and '_', not starting with a digit`,
      { key: k },
    );
  if (FORBIDDEN_KEYS.has(k)) throw new Invalid(where, `${k} cannot be set`, { key: k });
}

/** Validates a flat Record<string,string>; each failure names the offending key. */
export function validateEnv(body: unknown, field = "env"): Record<string, string> {
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw new Invalid(field, `${field} must be a flat JSON object of string values`);
  const entries = Object.entries(body as Record<string, unknown>);
  if (entries.length > ENV_LIMITS.maxKeys) throw new Invalid(field, `${field} has more than ${ENV_LIMITS.maxKeys} variables`);
  let total = 0;
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    const where = `${field}.${k}`;
    assertEnvName(k, field, where);
    if (typeof v !== "string")
      throw new Invalid(where, `Value of ${k} must be a string (nested objects, arrays, numbers are not accepted)`, { key: k });
    if (v.includes("\0")) throw new Invalid(where, `Value of ${k} must not contain NUL`, { key: k });
    const bytes = Buffer.byteLength(v);
    if (bytes > ENV_LIMITS.maxValueBytes)
      throw new Invalid(where, `Value of ${k} exceeds ${ENV_LIMITS.maxValueBytes} bytes`, { key: k });
    total += bytes + k.length;
    out[k] = v;
  }
  if (total > ENV_LIMITS.maxTotalBytes) throw new Invalid(field, `${field} exceeds ${ENV_LIMITS.maxTotalBytes} bytes in total`);
  return out;
}

/** True when a value should be shown as "****". */
export function isSecret(key: string, value: string): boolean {
  return SECRET_NAME.test(key) || URL_WITH_CREDENTIALS.test(value.trim());
}

/** `[{key, value}]` with secret-looking values masked, sorted by key. */
export function maskedList(env: Record<string, string>): Array<{ key: string; value: string }> {
  return Object.keys(env)
    .sort()
    .map((key) => ({ key, value: isSecret(key, env[key]) ? "****" : env[key] }));
}

export function sealEnv(box: SecretBox, env: Record<string, string>): string | null {
  return Object.keys(env).length ? box.sealJson(env) : null;
}

export function openEnv(box: SecretBox, sealed: string | null): Record<string, string> {
  return box.openJson<Record<string, string>>(sealed, {});
}

/** What to hide of one secret value: the value, and the password inside a URL (an error may print only that). */
function secretParts(value: string): string[] {
  const parts = [value];
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^\/\s@]+)@/i.exec(value.trim())?.[1];
  const password = userinfo?.includes(":") ? userinfo.slice(userinfo.indexOf(":") + 1) : userinfo;
  if (password) {
    parts.push(password);
    try {
      parts.push(decodeURIComponent(password));
    } catch {
      // not percent-encoded: the raw form is enough
    }
  }
  // Longest first, so a whole value is replaced before its password; tiny values would garble every line.
  return [...new Set(parts)].filter((p) => p.length >= 4).sort((a, b) => b.length - a.length);
}

/**
 * `what` (any JSON value, e.g. a failure's message and container log tail) with every secret env value of the
 * sealed envs replaced by "****". A crashing app often prints its env or connection string, and that text is
 * persisted as an event. Never throws: an env that cannot be opened leaves nothing to hide but drops the text.
 */
export function redactEnvValues<T>(box: SecretBox, sealed: Array<string | null>, what: T): T {
  let json = JSON.stringify(what);
  try {
    const env: Record<string, string> = Object.assign({}, ...sealed.map((s) => openEnv(box, s)));
    for (const [k, v] of Object.entries(env)) {
      if (!isSecret(k, v)) continue;
      for (const p of secretParts(v)) json = json.split(JSON.stringify(p).slice(1, -1)).join("****");
    }
  } catch {
    return JSON.parse(JSON.stringify(what, (k, v) => (k === "logs" ? [] : v)));
  }
  return JSON.parse(json);
}
