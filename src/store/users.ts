// Dashboard users of the built-in login; each belongs to one provider. Only the argon2id hash is stored.
import { named, type Db } from "./db.ts";

export interface UserRow {
  id: string;
  provider_id: string;
  email: string;
  password_hash: string;
  role: string;
  created_at: string;
}

export function find(db: Db, id: string): UserRow | undefined {
  return db.query<UserRow, [string]>("SELECT * FROM users WHERE id = ?").get(id) ?? undefined;
}

export function findByEmail(db: Db, email: string): UserRow | undefined {
  return db.query<UserRow, [string]>("SELECT * FROM users WHERE email = ?").get(email) ?? undefined;
}

export function count(db: Db): number {
  return db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM users").get()?.n ?? 0;
}

export function insert(db: Db, row: UserRow): void {
  db.query(
    "INSERT INTO users (id, provider_id, email, password_hash, role, created_at) VALUES ($id, $provider_id, $email, $password_hash, $role, $created_at)",
  ).run(named(row));
}
