// Read-only queries behind /metrics: tenant counts and a deployment's stage timings.
import type { Db } from "./db.ts";

/** Tenants grouped by status and mode, across all providers (scrape time), from the counts triggers keep. */
export function tenantCountsByStatus(db: Db): Array<{ status: string; mode: string; count: number }> {
  return db
    .query<{ status: string; mode: string; count: number }, []>(
      "SELECT status, mode, SUM(n) AS count FROM tenant_counts GROUP BY status, mode HAVING SUM(n) > 0",
    )
    .all();
}

/** The `timings` JSON of one deployment (empty when missing or unreadable). */
export function deploymentTimings(db: Db, tenantId: string, deploymentId: string): Record<string, unknown> {
  const row = db
    .query<{ timings: string }, [string, string]>("SELECT timings FROM deployments WHERE id = ? AND tenant_id = ?")
    .get(deploymentId, tenantId);
  try {
    const parsed = row ? JSON.parse(row.timings) : {};
    return parsed && typeof parsed === "object" ? parsed : {};
  } catch {
    return {};
  }
}
