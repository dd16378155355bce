// Registry credentials of a provider (per mode); the password is stored sealed (password_enc).
import { named, type Db } from "./db.ts";
import { NotFound } from "../lib/errors.ts";

export interface RegistryRow {
  id: string;
  provider_id: string;
  mode: "live" | "test";
  name: string;
  registry_url: string;
  username: string;
  password_enc: string;
  verified: number;
  created_at: string;
  updated_at: string;
}

export type RegistryPatch = Partial<Pick<RegistryRow, "name" | "registry_url" | "username" | "password_enc" | "verified">> & {
  updated_at: string;
};
const UPDATABLE = ["name", "registry_url", "username", "password_enc", "verified", "updated_at"];

export function find(db: Db, providerId: string, mode: string, id: string): RegistryRow | undefined {
  return (
    db
      .query<RegistryRow, [string, string, string]>("SELECT * FROM registries WHERE provider_id = ? AND mode = ? AND id = ?")
      .get(providerId, mode, id) ?? undefined
  );
}

/** Like find, but a missing or foreign id is NotFound. */
export function get(db: Db, providerId: string, mode: string, id: string): RegistryRow {
  const row = find(db, providerId, mode, id);
  if (!row) throw new NotFound("Registry credential");
  return row;
}

/** Every credential of a provider and mode, newest first. */
export function list(db: Db, providerId: string, mode: string): RegistryRow[] {
  return db
    .query<RegistryRow, [string, string]>(
      "SELECT * FROM registries WHERE provider_id = ? AND mode = ? ORDER BY created_at DESC, id",
    )
    .all(providerId, mode);
}

export function insert(db: Db, row: RegistryRow): void {
  db.query(
    `INSERT INTO registries (id, provider_id, mode, name, registry_url, username, password_enc, verified, created_at, updated_at)
            VALUES ($id, $provider_id, $mode, $name, $registry_url, $username, $password_enc, $verified, $created_at, $updated_at)`,
  ).run(named(row));
}

export function update(db: Db, id: string, patch: RegistryPatch): void {
  const keys = Object.keys(patch).filter((k) => UPDATABLE.includes(k));
  if (keys.length === 0) return;
  const values = Object.fromEntries(keys.map((k) => [k, (patch as Record<string, unknown>)[k] ?? null]));
  db.query(`UPDATE registries SET ${keys.map((k) => `${k} = $${k}`).join(", ")} WHERE id = $id`).run(named({ ...values, id }));
}

export function remove(db: Db, providerId: string, mode: string, id: string): boolean {
  return db.query("DELETE FROM registries WHERE provider_id = ? AND mode = ? AND id = ?").run(providerId, mode, id).changes > 0;
}

/** Registry URLs of every saved credential on this appliance, whoever owns it (for the pull policy). */
export function allUrls(db: Db): string[] {
  return db
    .query<{ registry_url: string }, []>("SELECT DISTINCT registry_url FROM registries")
    .all()
    .map((r) => r.registry_url);
}
