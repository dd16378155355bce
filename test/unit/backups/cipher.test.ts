// The sealed backup file: a round trip of parts larger than a frame, nothing in clear on disk, and every way a file
// can be damaged (a flipped byte, a cut, another appliance's key, an edited header) refused before use.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SecretBox } from "../../../src/lib/crypto.ts";
import { AppError } from "../../../src/lib/errors.ts";
import { CHUNK_BYTES, SealedWriter, readHeader, readSealed } from "../../../src/core/backups/cipher.ts";

const dir = mkdtempSync(join(tmpdir(), "staxa-cipher-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const box = new SecretBox(new Uint8Array(32).fill(7));
const meta = { backup_id: "bkp_x", tenant_id: "ten_x", service: "db", method: "pg_dump", created_at: "2030-01-01T00:00:00Z" };
const ROW = "INSERT INTO customers VALUES ('zebra-pelican-4471')";

async function write(name: string, parts: Array<[string, Buffer[]]>): Promise<string> {
  const path = join(dir, name);
  const w = await SealedWriter.create(path, box, meta);
  for (const [part, chunks] of parts) {
    await w.startPart(part);
    for (const c of chunks) await w.write(c);
  }
  await w.finish();
  return path;
}

async function read(path: string, b = box): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  let cur = "";
  for await (const item of readSealed(path, b)) {
    if (item.type === "part") out.set((cur = item.name), Buffer.alloc(0));
    else out.set(cur, Buffer.concat([out.get(cur)!, item.bytes]));
  }
  return out;
}

const big = Buffer.alloc(CHUNK_BYTES * 2 + 12345, ROW); // spans three frames

describe("sealed backup file", () => {
  test("round trip: parts come back byte for byte, in order, larger ones across frames", async () => {
    const path = await write("rt.stxt", [
      ["globals.sql", [Buffer.from("CREATE ROLE app;\n")]],
      ["db/app", [big.subarray(0, 1000), big.subarray(1000)]],
      ["db/empty", []],
    ]);
    const parts = await read(path);
    expect([...parts.keys()]).toEqual(["globals.sql", "db/app", "db/empty"]);
    expect(parts.get("globals.sql")!.toString()).toBe("CREATE ROLE app;\n");
    expect(parts.get("db/app")!.equals(big)).toBe(true);
    expect(parts.get("db/empty")!.length).toBe(0);
    expect((await readHeader(path)).service).toBe("db");
  });

  test("the file holds no row in clear, and no part name; it is written 0600 and leaves no partial file", async () => {
    const path = await write("clear.stxt", [["db/app", [Buffer.from(ROW)]]]);
    const bytes = readFileSync(path);
    expect(bytes.includes(Buffer.from("zebra-pelican-4471"))).toBe(false);
    expect(bytes.includes(Buffer.from("db/app"))).toBe(false);
    expect(readFileSync(path).subarray(0, 21).toString()).toBe("STAXA-TENANT-BACKUP 1");
    expect((await Bun.file(path).stat()).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((f) => f.endsWith(".partial"))).toEqual([]);
  });

  test("abort leaves no file at all", async () => {
    const path = join(dir, "aborted.stxt");
    const w = await SealedWriter.create(path, box, meta);
    await w.startPart("db/app");
    await w.write(Buffer.from(ROW));
    await w.abort();
    expect(existsSync(path) || existsSync(`${path}.partial`)).toBe(false);
  });

  const damaged: Array<[string, (b: Buffer) => Buffer]> = [
    ["a flipped byte in a frame", (b) => ((b[b.length - 40]! ^= 1), b)],
    ["a cut before the end frame", (b) => b.subarray(0, b.length - 30)],
    ["bytes after the end frame", (b) => Buffer.concat([b, Buffer.from("x")])],
    ["an edited header", (b) => Buffer.from(b.toString("latin1").replace('"service":"db"', '"service":"dx"'), "latin1")],
    ["another magic line", (b) => Buffer.concat([Buffer.from("NOT-A-BACKUP"), b.subarray(21)])],
  ];
  for (const [what, damage] of damaged) {
    test(`${what} is refused as backup_corrupt`, async () => {
      const path = await write(`d-${what.replace(/\W/g, "")}.stxt`, [["db/app", [big]]]);
      writeFileSync(path, damage(readFileSync(path)));
      const err = await read(path).catch((e) => e);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe("backup_corrupt");
    });
  }

  test("another appliance's key cannot open it", async () => {
    const path = await write("key.stxt", [["db/app", [Buffer.from(ROW)]]]);
    const err = await read(path, new SecretBox(new Uint8Array(32).fill(8))).catch((e) => e);
    expect((err as AppError).code).toBe("backup_corrupt");
  });

  test("two files of the same content share no ciphertext (a salt per file)", async () => {
    const a = readFileSync(await write("s1.stxt", [["db/app", [Buffer.from(ROW)]]]));
    const b = readFileSync(await write("s2.stxt", [["db/app", [Buffer.from(ROW)]]]));
    expect(a.subarray(-40).equals(b.subarray(-40))).toBe(false);
  });
});
