-- The whole schema of the first release. Later changes are new numbered files.
CREATE TABLE providers (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  name TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- Built-in login (dashboard). One user belongs to one provider.
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  provider_id TEXT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL DEFAULT 'admin',
  created_at TEXT NOT NULL
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  provider_id TEXT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  mode TEXT NOT NULL CHECK (mode IN ('live','test')),
  scopes TEXT NOT NULL DEFAULT '["*"]',
  expires_at TEXT,
  last_used_at TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX api_keys_provider ON api_keys(provider_id);

-- Appliance-wide key/value settings (setup token hash, JWT signing key, ...).
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  provider_id TEXT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
  mode TEXT NOT NULL CHECK (mode IN ('live','test')),
  name TEXT NOT NULL UNIQUE,
  display_name TEXT,
  status TEXT NOT NULL,
  status_reason TEXT,
  source_type TEXT,
  repo_url TEXT,
  branch TEXT NOT NULL DEFAULT 'main',
  image_url TEXT,
  resource_size TEXT NOT NULL DEFAULT 'small',
  app_port INTEGER,
  egress_mode TEXT NOT NULL DEFAULT 'open',
  env_enc TEXT,
  template_id TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX tenants_provider ON tenants(provider_id, mode, created_at);

CREATE TABLE services (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  source_type TEXT NOT NULL,
  repo_url TEXT,
  branch TEXT NOT NULL DEFAULT 'main',
  commit_sha TEXT,
  image_url TEXT,
  registry_id TEXT,
  port INTEGER,
  is_primary INTEGER NOT NULL DEFAULT 0,
  is_routable INTEGER NOT NULL DEFAULT 0,
  resource_size TEXT NOT NULL DEFAULT 'small',
  env_enc TEXT,
  priority INTEGER NOT NULL DEFAULT 0,
  depends_on TEXT NOT NULL DEFAULT '[]',
  volumes TEXT NOT NULL DEFAULT '[]',
  healthcheck TEXT,
  command TEXT,
  status TEXT NOT NULL DEFAULT 'pending',
  current_deployment_id TEXT,
  container_id TEXT,
  container_ip TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (tenant_id, name)
);

CREATE TABLE deployments (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  service_id TEXT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  service_name TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  trigger TEXT NOT NULL DEFAULT 'api',
  branch TEXT,
  commit_sha TEXT,
  requested_sha TEXT,
  image TEXT,
  image_id TEXT,
  framework TEXT,
  rollback_from TEXT,
  container_id TEXT,
  build_log TEXT NOT NULL DEFAULT '',
  timings TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT
);
CREATE INDEX deployments_tenant ON deployments(tenant_id, created_at);
CREATE INDEX deployments_status ON deployments(status);

CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL,
  deployment_id TEXT,
  service_name TEXT,
  stage TEXT NOT NULL,
  status TEXT NOT NULL,
  message TEXT NOT NULL,
  data TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX events_tenant ON events(tenant_id, id);

CREATE TABLE domains (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  service_id TEXT REFERENCES services(id) ON DELETE SET NULL,
  domain TEXT NOT NULL UNIQUE,
  is_primary INTEGER NOT NULL DEFAULT 0,
  verified INTEGER NOT NULL DEFAULT 0,
  verification_token TEXT NOT NULL,
  dns_status TEXT,
  ssl_status TEXT NOT NULL DEFAULT 'pending',
  ssl_issuer TEXT,
  ssl_expires_at TEXT,
  last_checked_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE network_rules (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  direction TEXT NOT NULL CHECK (direction IN ('inbound','outbound')),
  protocol TEXT NOT NULL CHECK (protocol IN ('tcp','udp')),
  target_service TEXT,
  target_port INTEGER,
  allocated_port INTEGER,
  source_cidrs TEXT NOT NULL DEFAULT '[]',
  destination_cidrs TEXT NOT NULL DEFAULT '[]',
  destination_port INTEGER,
  status TEXT NOT NULL DEFAULT 'active',
  description TEXT,
  expires_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
-- An allocated port belongs to at most one active rule: the database enforces the pool.
CREATE UNIQUE INDEX network_rules_port ON network_rules(allocated_port) WHERE status = 'active' AND allocated_port IS NOT NULL;

CREATE TABLE registries (
  id TEXT PRIMARY KEY,
  provider_id TEXT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
  mode TEXT NOT NULL CHECK (mode IN ('live','test')),
  name TEXT NOT NULL,
  registry_url TEXT NOT NULL,
  username TEXT NOT NULL,
  password_enc TEXT NOT NULL,
  verified INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE github_installations (
  provider_id TEXT PRIMARY KEY REFERENCES providers(id) ON DELETE CASCADE,
  installation_id INTEGER NOT NULL,
  account TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active',
  created_at TEXT NOT NULL
);

CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,
  provider_id TEXT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
  mode TEXT NOT NULL CHECK (mode IN ('live','test')),
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  description TEXT,
  secret_enc TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event_id TEXT NOT NULL,
  event TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  last_status_code INTEGER,
  last_error TEXT,
  created_at TEXT NOT NULL,
  delivered_at TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
