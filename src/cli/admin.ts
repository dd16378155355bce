// `staxa admin create-key`: creates the provider when missing and prints ONLY the raw key.
import type { Config } from "../config.ts";
import { openDb, migrate } from "../store/db.ts";
import { ensureProvider } from "../core/identity/accounts.ts";
import { createKey } from "../core/identity/keys.ts";
import { UsageError, type Flags } from "./args.ts";

export function adminCreateKey(config: Config, flags: Flags): void {
  const email = flags.string("email", { required: true })!;
  const name = flags.string("name");
  const mode = flags.string("mode") ?? "live";
  if (mode !== "live" && mode !== "test") throw new UsageError(`--mode must be live or test, got "${mode}"`);
  if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 254) throw new UsageError(`--email must be an email address`);
  const db = openDb(config.dbPath);
  migrate(db);
  const provider = ensureProvider(db, { email, name: name ?? null }).provider;
  const { raw } = createKey(db, { providerId: provider.id, name: name ?? "admin", mode, scopes: ["*"], expiresAt: null });
  db.close();
  process.stdout.write(raw + "\n");
}
