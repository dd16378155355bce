-- Tenant volume backups: one row per backup of one service (its file lives under the backup dir, encrypted with a
-- key derived from the appliance's secret key), and one optional schedule per tenant. Both go with their tenant.
CREATE TABLE backups (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  service TEXT NOT NULL,
  -- manual | scheduled
  kind TEXT NOT NULL CHECK (kind IN ('manual', 'scheduled')),
  -- pg_dump (a dump taken in the running Postgres container) | volume_tar (the volumes, container stopped)
  method TEXT NOT NULL CHECK (method IN ('pg_dump', 'volume_tar')),
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  reason TEXT,
  size_bytes INTEGER,
  -- file name inside the tenant's backup dir (never a path)
  file TEXT,
  -- the last restore of this backup: null | running | succeeded | failed
  restore_status TEXT,
  restore_reason TEXT,
  restored_at TEXT,
  created_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE INDEX backups_tenant ON backups(tenant_id, created_at);

CREATE TABLE backup_schedules (
  tenant_id TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  cron TEXT NOT NULL,
  -- scheduled backups kept per service (the newest)
  keep INTEGER NOT NULL,
  next_run_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX backup_schedules_due ON backup_schedules(next_run_at);
