// Tenant volume backups inside an appliance backup (`staxa backup --with-tenant-backups`): each encrypted file
// becomes one part `tenant-backups/<tenant id>/<backup id>.stxt`, and a restore writes them back under the backup dir.
// The files stay encrypted with the appliance's key, which the archive carries beside them.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const PART = /^tenant-backups\/(ten_[A-Za-z0-9]+)\/(bkp_[A-Za-z0-9]+\.stxt)$/;
const TENANT = /^ten_[A-Za-z0-9]+$/;
const FILE = /^bkp_[A-Za-z0-9]+\.stxt$/;

/** The finished tenant backup files under `root` (half-written `.partial` ones are left out). */
export function tenantBackupParts(root: string): Array<{ name: string; bytes: Uint8Array }> {
  let tenants: string[];
  try {
    tenants = readdirSync(root).filter((d) => TENANT.test(d));
  } catch {
    return [];
  }
  return tenants.flatMap((t) =>
    readdirSync(join(root, t))
      .filter((f) => FILE.test(f))
      .sort()
      .map((f) => ({ name: `tenant-backups/${t}/${f}`, bytes: readFileSync(join(root, t, f)) })),
  );
}

/** Writes the tenant backup parts of an archive under `root` (0700 folders, 0600 files); returns how many. */
export function writeTenantBackupParts(parts: Map<string, Uint8Array>, root: string): number {
  let n = 0;
  for (const [name, bytes] of parts) {
    const m = PART.exec(name);
    if (!m) continue; // only names of this exact form: no part can write outside its folder
    mkdirSync(join(root, m[1]!), { recursive: true, mode: 0o700 });
    writeFileSync(join(root, m[1]!, m[2]!), bytes, { mode: 0o600 });
    n++;
  }
  return n;
}
