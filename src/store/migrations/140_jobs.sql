-- Scheduled jobs (issue 23.2): a cron schedule running an argv in a one-off container from a service's live image,
-- and their runs (status, exit code, bounded logs). Both go with their tenant.
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  service TEXT NOT NULL,
  schedule TEXT NOT NULL,
  -- JSON array of strings: the container's argv, never a shell string
  command TEXT NOT NULL,
  timeout_sec INTEGER NOT NULL,
  concurrency_policy TEXT NOT NULL CHECK (concurrency_policy IN ('forbid', 'allow', 'replace')),
  paused INTEGER NOT NULL DEFAULT 0,
  -- the next fire time the scheduler waits for (ISO); a past one at start-up is a missed run
  next_run_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX jobs_tenant ON jobs(tenant_id, created_at);
CREATE INDEX jobs_due ON jobs(next_run_at) WHERE paused = 0;

CREATE TABLE job_runs (
  id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  -- schedule | manual | catch-up
  trigger TEXT NOT NULL,
  -- running | succeeded | failed | timed_out | skipped | replaced | interrupted
  status TEXT NOT NULL,
  image TEXT,
  container_id TEXT,
  exit_code INTEGER,
  logs TEXT,
  reason TEXT,
  scheduled_for TEXT,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  duration_ms INTEGER
);
CREATE INDEX job_runs_job ON job_runs(job_id, started_at);
CREATE INDEX job_runs_running ON job_runs(status) WHERE status = 'running';
