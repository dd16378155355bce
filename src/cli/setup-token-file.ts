// <data dir>/setup-token (0600): the first admin's one-time token, for install.sh to print; removed once an admin exists.
import { rmSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";

/** Writes the token when there is one, deletes a stale file when there is not. */
export function writeSetupTokenFile(dataDir: string, token: string | undefined): void {
  const path = join(dataDir, "setup-token");
  if (!token) {
    rmSync(path, { force: true });
    return;
  }
  writeFileSync(path, token + "\n", { mode: 0o600 });
  chmodSync(path, 0o600);
}
