// Services: the container groups of a tenant (a single-service tenant has one, "web").
import { named, type Db } from "./db.ts";
import { NotFound } from "../lib/errors.ts";

export interface ServiceRow {
  id: string;
  tenant_id: string;
  name: string;
  source_type: string;
  repo_url: string | null;
  branch: string;
  commit_sha: string | null;
  image_url: string | null;
  registry_id: string | null;
  port: number | null;
  is_primary: number;
  is_routable: number;
  resource_size: string;
  env_enc: string | null;
  priority: number;
  depends_on: string;
  volumes: string;
  healthcheck: string | null;
  command: string | null;
  /** Directory of the build inside the repo (compose `build:`); null = the root. */
  build_context: string | null;
  status: string;
  current_deployment_id: string | null;
  container_id: string | null;
  container_ip: string | null;
  /** Port the live container was started with (the detected one when the request named none); null before any. */
  live_port: number | null;
  /** Image id the live container runs. */
  live_image: string | null;
  /** Containers the service runs (1..10); replicas 2..n are rows of service_replicas. */
  replicas: number;
  created_at: string;
  updated_at: string;
}

/** Services of a tenant in deploy order: priority, then creation. */
export function list(db: Db, tenantId: string): ServiceRow[] {
  return db
    .query<ServiceRow, [string]>("SELECT * FROM services WHERE tenant_id = ? ORDER BY priority, created_at, name")
    .all(tenantId);
}

export function find(db: Db, tenantId: string, name: string): ServiceRow | undefined {
  return (
    db.query<ServiceRow, [string, string]>("SELECT * FROM services WHERE tenant_id = ? AND name = ?").get(tenantId, name) ??
    undefined
  );
}

export function get(db: Db, tenantId: string, name: string): ServiceRow {
  const row = find(db, tenantId, name);
  if (!row) throw new NotFound("Service");
  return row;
}

export function findById(db: Db, id: string): ServiceRow | undefined {
  return db.query<ServiceRow, [string]>("SELECT * FROM services WHERE id = ?").get(id) ?? undefined;
}

export function primary(db: Db, tenantId: string): ServiceRow | undefined {
  return (
    db
      .query<ServiceRow, [string]>(
        "SELECT * FROM services WHERE tenant_id = ? ORDER BY is_primary DESC, priority, created_at LIMIT 1",
      )
      .get(tenantId) ?? undefined
  );
}

/** Every service of every tenant, in one read (reconciliation's desired state). */
export function listAll(db: Db): ServiceRow[] {
  return db.query<ServiceRow, []>("SELECT * FROM services ORDER BY tenant_id, priority, created_at, name").all();
}

export function insert(db: Db, row: ServiceRow): void {
  db.query(
    `INSERT INTO services (id, tenant_id, name, source_type, repo_url, branch, commit_sha, image_url, registry_id, port,
              is_primary, is_routable, resource_size, env_enc, priority, depends_on, volumes, healthcheck, command, build_context, status,
              current_deployment_id, container_id, container_ip, live_port, live_image, replicas, created_at, updated_at)
            VALUES ($id, $tenant_id, $name, $source_type, $repo_url, $branch, $commit_sha, $image_url, $registry_id, $port,
              $is_primary, $is_routable, $resource_size, $env_enc, $priority, $depends_on, $volumes, $healthcheck, $command, $build_context, $status,
              $current_deployment_id, $container_id, $container_ip, $live_port, $live_image, $replicas, $created_at, $updated_at)`,
  ).run(named(row));
}

const UPDATABLE = new Set([
  "repo_url",
  "branch",
  "commit_sha",
  "image_url",
  "port",
  "resource_size",
  "env_enc",
  "status",
  "current_deployment_id",
  "container_id",
  "container_ip",
  "live_port",
  "live_image",
  "replicas",
  "updated_at",
]);
type Mutable = Partial<
  Pick<
    ServiceRow,
    | "repo_url"
    | "branch"
    | "commit_sha"
    | "image_url"
    | "port"
    | "resource_size"
    | "env_enc"
    | "status"
    | "current_deployment_id"
    | "container_id"
    | "container_ip"
    | "live_port"
    | "live_image"
    | "replicas"
  >
>;

export function update(db: Db, id: string, fields: Mutable & { updated_at: string }): void {
  const cols = Object.keys(fields).filter((k) => UPDATABLE.has(k));
  if (cols.length === 0) return;
  const args: Record<string, unknown> = { id };
  for (const c of cols) args[c] = (fields as Record<string, unknown>)[c] ?? null;
  db.query(`UPDATE services SET ${cols.map((c) => `${c} = $${c}`).join(", ")} WHERE id = $id`).run(args as any);
}

export function remove(db: Db, id: string): void {
  db.query("DELETE FROM services WHERE id = ?").run(id);
}
