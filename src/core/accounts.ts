// Providers (accounts): creation is idempotent by email.
import type { Db } from "../store/db.ts";
import * as providers from "../store/providers.ts";
import { newId, nowIso } from "../lib/ids.ts";

/** Returns the provider with this email, creating it when missing. */
export function ensureProvider(db: Db, input: { email: string; name: string | null }) {
  const email = input.email.toLowerCase();
  const existing = providers.findByEmail(db, email);
  if (existing) return { provider: existing, created: false };
  const now = nowIso();
  const row = { id: newId("prv"), email, name: input.name, created_at: now, updated_at: now };
  providers.insert(db, row);
  return { provider: row, created: true };
}
