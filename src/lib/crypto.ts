// Secret box (AES-256-GCM) for secrets at rest, and hashing for API keys.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";

const VERSION = "v1";

/** Encrypts/decrypts small secrets with one 32-byte key kept in the data dir (0600). */
export class SecretBox {
  constructor(private readonly key: Uint8Array) {
    if (key.length !== 32) throw new Error("secret key must be 32 bytes");
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, iv.toString("base64"), tag.toString("base64"), body.toString("base64")].join(":");
  }

  open(sealed: string): string {
    const [version, iv, tag, body] = sealed.split(":");
    if (version !== VERSION || !iv || !tag || body === undefined) throw new Error("sealed value is malformed");
    const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64"));
    decipher.setAuthTag(Buffer.from(tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8");
  }

  sealJson(value: unknown): string {
    return this.seal(JSON.stringify(value));
  }

  openJson<T>(sealed: string | null | undefined, fallback: T): T {
    return sealed ? (JSON.parse(this.open(sealed)) as T) : fallback;
  }

  /** A 32-byte key for one purpose and salt (HKDF-SHA256): files too large to seal here never use the key itself. */
  deriveKey(info: string, salt: Uint8Array): Buffer {
    return Buffer.from(hkdfSync("sha256", this.key, salt, info, 32));
  }
}

/** SHA-256 hex digest; API keys are stored only as this. */
export function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

/** Constant-time string comparison (lengths compared first, which leaks only length). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
