// Providers (accounts): creation is idempotent by email; the profile shows the tenant count of the caller's mode.
import type { Db } from "../../store/db.ts";
import * as providers from "../../store/providers.ts";
import type { ReadMemo } from "../../store/read-memo.ts";
import { newId, nowIso } from "../../lib/ids.ts";
import { Invalid } from "../../lib/errors.ts";
import type { Mode, Principal } from "./principal.ts";

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$|^[^\s@]+@localhost$/;

/** Normalises and checks an email address (lower-cased, at most 254 characters). */
export function normalizeEmail(raw: string, field = "email"): string {
  const email = raw.trim().toLowerCase();
  if (email.length > 254 || !EMAIL_RE.test(email)) throw new Invalid(field, `${field} must be an email address`);
  return email;
}

/** Checks a display name: trimmed, 1..200 characters, no control characters. */
export function normalizeName(raw: string, field = "name"): string {
  const name = raw.trim();
  if (!name) throw new Invalid(field, `${field} must not be empty`);
  if (name.length > 200) throw new Invalid(field, `${field} must be at most 200 characters`);
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new Invalid(field, `${field} must not contain control characters`);
  return name;
}

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

/** The account as the API shows it. */
export function accountView(db: Db, provider: providers.ProviderRow, mode: Mode) {
  return {
    id: provider.id,
    email: provider.email,
    name: provider.name,
    tenant_count: providers.tenantCount(db, provider.id, mode),
    created_at: provider.created_at,
  };
}

export function getAccount(ctx: { db: Db; reads: ReadMemo }, caller: Principal) {
  // GET /account is the API's hottest read: reused until any write by this process, at most 1 s (store/read-memo.ts).
  const row = ctx.reads.read(`account:${caller.providerId}:${caller.mode}`, 1000, () =>
    providers.getWithTenantCount(ctx.db, caller.providerId, caller.mode),
  );
  return accountOf(row);
}

const accountOf = (row: providers.ProviderRow & { tenant_count: number }) => ({
  id: row.id,
  email: row.email,
  name: row.name,
  tenant_count: row.tenant_count,
  created_at: row.created_at,
});

export function updateAccount(db: Db, caller: Principal, input: { name?: string }) {
  if (input.name !== undefined) {
    providers.update(db, caller.providerId, { name: normalizeName(input.name), updated_at: nowIso() });
  }
  return accountOf(providers.getWithTenantCount(db, caller.providerId, caller.mode));
}

/**
 * POST /register: the signed-in identity creates (or finds) its provider. The body's email must be the
 * identity's own, so that nobody can claim, or read, another person's account.
 */
export function register(db: Db, identity: { email: string }, input: { email: string; name?: string }, mode: Mode) {
  const email = normalizeEmail(input.email);
  if (email !== identity.email.toLowerCase()) throw new Invalid("email", "email must be the signed-in user's email");
  const name = input.name === undefined ? null : normalizeName(input.name);
  const { provider, created } = db.transaction(() => ensureProvider(db, { email, name }))();
  return { account: accountView(db, provider, mode), created };
}
