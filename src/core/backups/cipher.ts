// The encrypted backup file: named parts (a dump per database, a tar per volume) streamed in AES-256-GCM frames,
// so a dump of any size is never held in memory nor written anywhere in clear.
//
// Format (version 1):
//   line 1   "STAXA-TENANT-BACKUP 1"
//   line 2   JSON header: backup_id, tenant_id, service, method, created_at, kdf "hkdf-sha256", salt (base64)
//   frames   [u32 BE length of ciphertext][ciphertext][16-byte GCM tag], each one message under the file's key
// The file's key is derived from the appliance's secret key with the header's salt (a new salt per file). Frame n
// uses IV = 4 zero bytes + n (u64 BE), so frames cannot be reordered or dropped; the AAD is the SHA-256 of the two
// header lines, so the header cannot be altered. A frame's plaintext is one type byte, then: PART (the part's
// name), DATA (bytes), END (nothing; a file without it was cut short).
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import type { SecretBox } from "../../lib/crypto.ts";
import { Unprocessable } from "../../lib/errors.ts";

const MAGIC = "STAXA-TENANT-BACKUP 1";
const INFO = "staxa tenant backup v1";
/** Plaintext bytes per DATA frame. */
export const CHUNK_BYTES = 1 << 20;
const MAX_FRAME = CHUNK_BYTES + 1;
const PART = 1;
const DATA = 2;
const END = 3;

export interface SealedHeader {
  format: "staxa-tenant-backup";
  version: 1;
  backup_id: string;
  tenant_id: string;
  service: string;
  method: string;
  created_at: string;
  kdf: "hkdf-sha256";
  salt: string;
}

export type SealedItem = { type: "part"; name: string } | { type: "data"; bytes: Buffer };

const ivOf = (n: number) => {
  const iv = Buffer.alloc(12);
  iv.writeBigUInt64BE(BigInt(n), 4);
  return iv;
};
const corrupt = (why: string) =>
  new Unprocessable("backup_corrupt", `The backup file is damaged or was not written by this appliance (${why})`);

/** Writes a sealed file beside its final name and renames it into place on finish: no half file is ever listed. */
export class SealedWriter {
  private frames = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private written = 0;

  private constructor(
    private readonly fh: FileHandle,
    private readonly tmp: string,
    private readonly path: string,
    private readonly key: Buffer,
    private readonly aad: Buffer,
  ) {}

  static async create(
    path: string,
    box: SecretBox,
    meta: Omit<SealedHeader, "format" | "version" | "kdf" | "salt">,
  ): Promise<SealedWriter> {
    const salt = randomBytes(16);
    const header: SealedHeader = {
      format: "staxa-tenant-backup",
      version: 1,
      ...meta,
      kdf: "hkdf-sha256",
      salt: salt.toString("base64"),
    };
    const head = Buffer.from(`${MAGIC}\n${JSON.stringify(header)}\n`);
    const tmp = `${path}.partial`;
    const fh = await open(tmp, "wx", 0o600);
    const w = new SealedWriter(fh, tmp, path, box.deriveKey(INFO, salt), createHash("sha256").update(head).digest());
    await w.out(head);
    return w;
  }

  /** Starts the next part; what `write` gives from now on belongs to it. */
  async startPart(name: string): Promise<void> {
    await this.flush();
    await this.frame(PART, Buffer.from(name));
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.pending.push(Buffer.from(bytes));
    this.pendingBytes += bytes.length;
    while (this.pendingBytes >= CHUNK_BYTES) {
      const all = Buffer.concat(this.pending);
      await this.frame(DATA, all.subarray(0, CHUNK_BYTES));
      this.pending = [all.subarray(CHUNK_BYTES)];
      this.pendingBytes = all.length - CHUNK_BYTES;
    }
  }

  /** Ends the file (the END frame), syncs it to disk and moves it into place; returns its size in bytes. */
  async finish(): Promise<number> {
    await this.flush();
    await this.frame(END, Buffer.alloc(0));
    await this.fh.sync();
    await this.fh.close();
    await rename(this.tmp, this.path);
    return this.written;
  }

  /** Drops what was written (a failed backup leaves no file). */
  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await rm(this.tmp, { force: true });
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes) await this.frame(DATA, Buffer.concat(this.pending));
    this.pending = [];
    this.pendingBytes = 0;
  }

  private async frame(type: number, body: Buffer): Promise<void> {
    const cipher = createCipheriv("aes-256-gcm", this.key, ivOf(this.frames++));
    cipher.setAAD(this.aad);
    const ct = Buffer.concat([cipher.update(Buffer.from([type])), cipher.update(body), cipher.final()]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(ct.length);
    await this.out(Buffer.concat([len, ct, cipher.getAuthTag()]));
  }

  private async out(b: Buffer): Promise<void> {
    await this.fh.write(b);
    this.written += b.length;
  }
}

/** Reads exactly `n` bytes at `pos`; fewer means the file ended. */
async function readAt(fh: FileHandle, pos: number, n: number): Promise<Buffer> {
  const buf = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    const { bytesRead } = await fh.read(buf, got, n - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** The header of a sealed file (no key needed). */
export async function readHeader(path: string): Promise<SealedHeader> {
  const fh = await open(path, "r");
  try {
    return (await headerOf(fh)).header;
  } finally {
    await fh.close();
  }
}

async function headerOf(fh: FileHandle): Promise<{ header: SealedHeader; end: number; aad: Buffer }> {
  const start = await readAt(fh, 0, 64 * 1024);
  const nl1 = start.indexOf(0x0a);
  if (nl1 < 0 || start.subarray(0, nl1).toString() !== MAGIC) throw corrupt("bad magic line");
  const nl2 = start.indexOf(0x0a, nl1 + 1);
  if (nl2 < 0) throw corrupt("no header");
  let header: SealedHeader;
  try {
    header = JSON.parse(start.subarray(nl1 + 1, nl2).toString("utf8"));
  } catch {
    throw corrupt("header is not JSON");
  }
  if (header?.format !== "staxa-tenant-backup" || header.version !== 1 || typeof header.salt !== "string")
    throw corrupt("unknown header");
  return {
    header,
    end: nl2 + 1,
    aad: createHash("sha256")
      .update(start.subarray(0, nl2 + 1))
      .digest(),
  };
}

/**
 * The parts of a sealed file in order: a `part` item, then its `data` items. Every frame is authenticated before
 * it is yielded; a damaged, reordered or cut file throws backup_corrupt (what came before may have been yielded).
 */
export async function* readSealed(path: string, box: SecretBox): AsyncGenerator<SealedItem> {
  const fh = await open(path, "r");
  try {
    const { header, end, aad } = await headerOf(fh);
    const key = box.deriveKey(INFO, Buffer.from(header.salt, "base64"));
    let pos = end;
    for (let n = 0; ; n++) {
      const len = await readAt(fh, pos, 4);
      if (len.length < 4) throw corrupt("the file ends before its last frame");
      const size = len.readUInt32BE();
      if (size < 1 || size > MAX_FRAME) throw corrupt(`frame ${n} has an impossible length`);
      const frame = await readAt(fh, pos + 4, size + 16);
      if (frame.length < size + 16) throw corrupt("the file ends inside a frame");
      pos += 4 + size + 16;
      let plain: Buffer;
      try {
        const d = createDecipheriv("aes-256-gcm", key, ivOf(n));
        d.setAAD(aad);
        d.setAuthTag(frame.subarray(size));
        plain = Buffer.concat([d.update(frame.subarray(0, size)), d.final()]);
      } catch {
        throw corrupt(`frame ${n} does not authenticate (another appliance's key, or damaged)`);
      }
      const type = plain[0];
      if (type === END) {
        if ((await readAt(fh, pos, 1)).length) throw corrupt("bytes after the end frame");
        return;
      }
      if (type === PART) yield { type: "part", name: plain.subarray(1).toString("utf8") };
      else if (type === DATA) yield { type: "data", bytes: plain.subarray(1) };
      else throw corrupt(`frame ${n} has an unknown type`);
    }
  } finally {
    await fh.close();
  }
}
