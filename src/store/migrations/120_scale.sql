-- A thousand tenants on one server (issue 18): subnets of our own, counts kept instead of counted, indexes for
-- every per-tenant lookup and every foreign key a delete cascades through.

-- Tenant subnets: blocks of STAXA_TENANT_SUBNET_POOL. A row is a block the allocator has reached: held by a
-- tenant, free again (tenant_id NULL: freed when the tenant row goes), or skipped until the next start-up
-- (`reserved`: a host route or a network this store does not own overlaps it). Rows exist for every block below
-- the highest one, so the lowest free block is one index probe and the next new one is MAX(start) + 1 block.
CREATE TABLE subnet_blocks (
  start INTEGER PRIMARY KEY,
  prefix INTEGER NOT NULL,
  tenant_id TEXT UNIQUE REFERENCES tenants(id) ON DELETE SET NULL,
  reserved TEXT
);
CREATE INDEX subnet_blocks_free ON subnet_blocks(prefix, start) WHERE tenant_id IS NULL AND reserved IS NULL;
-- Address ranges found overlapping the pool at start-up (host routes, other Docker networks), [lo, hi] inclusive.
CREATE TABLE subnet_reserved (
  lo INTEGER NOT NULL,
  hi INTEGER NOT NULL,
  reason TEXT NOT NULL
);

-- Tenants per provider, mode and status, kept by triggers: /account, the tenant limit, list totals and /metrics
-- read a handful of rows instead of counting every tenant of a provider on every request.
CREATE TABLE tenant_counts (
  provider_id TEXT NOT NULL,
  mode TEXT NOT NULL,
  status TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (provider_id, mode, status)
) WITHOUT ROWID;
INSERT INTO tenant_counts (provider_id, mode, status, n) SELECT provider_id, mode, status, COUNT(*) FROM tenants GROUP BY provider_id, mode, status;
CREATE TRIGGER tenant_counts_insert AFTER INSERT ON tenants BEGIN
  INSERT INTO tenant_counts (provider_id, mode, status, n) VALUES (NEW.provider_id, NEW.mode, NEW.status, 1)
    ON CONFLICT (provider_id, mode, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER tenant_counts_delete AFTER DELETE ON tenants BEGIN
  UPDATE tenant_counts SET n = n - 1 WHERE provider_id = OLD.provider_id AND mode = OLD.mode AND status = OLD.status;
END;
CREATE TRIGGER tenant_counts_update AFTER UPDATE OF status, provider_id, mode ON tenants
  WHEN OLD.status IS NOT NEW.status OR OLD.provider_id IS NOT NEW.provider_id OR OLD.mode IS NOT NEW.mode BEGIN
  UPDATE tenant_counts SET n = n - 1 WHERE provider_id = OLD.provider_id AND mode = OLD.mode AND status = OLD.status;
  INSERT INTO tenant_counts (provider_id, mode, status, n) VALUES (NEW.provider_id, NEW.mode, NEW.status, 1)
    ON CONFLICT (provider_id, mode, status) DO UPDATE SET n = n + 1;
END;

-- GET /tenants sorted by name, or filtered by status, reads one provider's slice in order.
CREATE INDEX tenants_provider_name ON tenants(provider_id, mode, name);
CREATE INDEX tenants_provider_status ON tenants(provider_id, mode, status, created_at);
-- Per-tenant rule lookups (every deploy re-applies a tenant's rules) and the expiry job's due scan.
CREATE INDEX network_rules_tenant ON network_rules(tenant_id, direction, status);
CREATE INDEX network_rules_due ON network_rules(status, expires_at);
-- Foreign keys a delete cascades through: without these, each deleted parent scans the whole child table.
CREATE INDEX deployments_service ON deployments(service_id);
CREATE INDEX domains_service ON domains(service_id);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id);
CREATE INDEX users_provider ON users(provider_id);
CREATE INDEX registries_provider ON registries(provider_id, mode);
CREATE INDEX webhooks_provider ON webhooks(provider_id, mode);
