// What the dashboard concludes from a tenant's and a deployment's status, in one place for every page.

/**
 * Whether the tenant's URL answers with its app: its primary service has a live container, and the tenant is
 * neither failed nor being deleted. A first deployment still running serves nothing yet.
 */
export function serves(t: { status: string; services: Array<{ is_primary: boolean; status: string }> }): boolean {
  if (t.status === "failed" || t.status === "deleting") return false;
  return t.services.some((s) => s.is_primary && s.status === "running");
}

/** A deployment that will write no more to its build log. */
export const isFinished = (status: string | null | undefined): boolean => status === "succeeded" || status === "failed";
