// Read-only queries behind /metrics: tenant counts and a deployment's stage timings.
import type { Db } from "./db.ts";

/** Tenants grouped by status and mode, across all providers (scrape time; one indexed-size scan). */
export function tenantCountsByStatus(db: Db): Array<{ status: string; mode: string; count: number }> {
  return db.query<{ status: string; mode: string; count: number }, []>("SELECT status, mode, COUNT(*) AS count FROM tenants GROUP BY status, mode").all();
}

/** The `timings` JSON of one deployment (empty when missing or unreadable). */
export function deploymentTimings(db: Db, tenantId: string, deploymentId: string): Record<string, unknown> {
  const row = db.query<{ timings: string }, [string, string]>("SELECT timings FROM deployments WHERE id = ? AND tenant_id = ?").get(deploymentId, tenantId);
  try {
    const parsed = row ? JSON.parse(row.timings) : {};
    return parsed && typeof parsed === "object" ? parsed : {};
  } catch {
    return {};
  }
}
