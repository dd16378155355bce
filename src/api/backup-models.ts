// OpenAPI models of tenant volume backups (an extension of the reference API).
import { t } from "elysia";

const S = (description?: string) => t.String(description ? { description } : {});
const MS = (description?: string) => t.Union([S(description), t.Null()]);
const MI = (description?: string) => t.Union([t.Integer(description ? { description } : {}), t.Null()]);

export const Backup = t.Object({
  id: S(),
  service: S("The service whose data it holds"),
  kind: S("manual | scheduled"),
  method: S("pg_dump (dumped in the running Postgres) | volume_tar (volumes tarred, container stopped)"),
  status: S("queued | running | succeeded | failed"),
  reason: MS("Why it failed"),
  size_bytes: MI("Size of the encrypted file"),
  created_at: S("ISO 8601 UTC time"),
  finished_at: MS("ISO 8601 UTC time"),
  restore_status: MS("The last restore of this backup: running | succeeded | failed"),
  restore_reason: MS("Why the last restore failed"),
  restored_at: MS("ISO 8601 UTC time"),
});

export const BackupSchedule = t.Object({
  cron: S("5-field cron expression or @daily etc., UTC"),
  keep: t.Integer({ description: "Scheduled backups kept per service (1-100)" }),
  next_run_at: MS("ISO 8601 UTC time"),
  created_at: S("ISO 8601 UTC time"),
  updated_at: S("ISO 8601 UTC time"),
});
