// Pure: which backups retention removes. Only scheduled ones (a backup someone asked for stays until deleted):
// per service, the newest `keep` that succeeded stay; a failed one stays only while no newer one succeeded, and
// at most `keep` of those. Backups still queued or running are never touched.
import type { BackupRow } from "../../store/backups.ts";

type Row = Pick<BackupRow, "id" | "service" | "kind" | "status" | "created_at">;

/** Ids to delete, oldest first. */
export function planRetention(rows: Row[], keep: number): string[] {
  const out: Row[] = [];
  const scheduled = rows.filter((r) => r.kind === "scheduled" && (r.status === "succeeded" || r.status === "failed"));
  for (const svc of new Set(scheduled.map((r) => r.service))) {
    const newestFirst = scheduled.filter((r) => r.service === svc).sort((a, b) => b.created_at.localeCompare(a.created_at));
    let ok = 0;
    let failed = 0;
    for (const r of newestFirst) {
      if (r.status === "succeeded") {
        if (++ok > keep) out.push(r);
      } else if (ok > 0 || ++failed > keep) out.push(r);
    }
  }
  return out.sort((a, b) => a.created_at.localeCompare(b.created_at)).map((r) => r.id);
}
