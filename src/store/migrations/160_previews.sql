-- Preview deployments per pull request: a tenant's preview settings, and one row per preview tenant (a tenant of
-- its own, `<name>-pr-<n>`, removed like any other tenant; its row goes with it).
CREATE TABLE preview_settings (
  tenant_id TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  enabled INTEGER NOT NULL DEFAULT 0,
  allow_forks INTEGER NOT NULL DEFAULT 0,
  ttl_hours INTEGER NOT NULL,
  -- sealed JSON {KEY: value | null}: a value replaces the tenant's, null removes the key from previews
  env_overrides_enc TEXT,
  updated_at TEXT NOT NULL
);

CREATE TABLE previews (
  tenant_id TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  -- SET NULL, not CASCADE: a preview outliving its base tenant is found (base NULL) and deleted by the TTL sweep
  base_tenant_id TEXT REFERENCES tenants(id) ON DELETE SET NULL,
  -- owner/repo of the pull request's base: statuses and the comment go there
  repo TEXT NOT NULL,
  pr_number INTEGER NOT NULL,
  -- owner/repo the head commit comes from (a fork's, for a pull request from a fork)
  head_repo TEXT NOT NULL,
  head_ref TEXT NOT NULL,
  head_sha TEXT NOT NULL,
  -- the PR comment GitHub gave back; 0 while one is being posted
  comment_id INTEGER,
  created_at TEXT NOT NULL,
  -- the last pull_request event that deployed it: the TTL counts from here
  updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX previews_pr ON previews(base_tenant_id, pr_number);
