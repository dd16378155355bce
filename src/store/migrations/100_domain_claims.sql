-- Domain claims: a name may be claimed (added, unverified) by several tenants; the first to prove it through DNS owns
-- it. One verified row per name at most (a partial unique index, which decides a race between two verifications);
-- one claim per name per tenant. SQLite cannot drop the column's UNIQUE constraint, so the table is rebuilt.
CREATE TABLE domains_new (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  service_id TEXT REFERENCES services(id) ON DELETE SET NULL,
  domain TEXT NOT NULL,
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
INSERT INTO domains_new (id, tenant_id, service_id, domain, is_primary, verified, verification_token, dns_status, ssl_status,
  ssl_issuer, ssl_expires_at, last_checked_at, created_at, updated_at)
  SELECT id, tenant_id, service_id, domain, is_primary, verified, verification_token, dns_status, ssl_status,
  ssl_issuer, ssl_expires_at, last_checked_at, created_at, updated_at FROM domains ORDER BY rowid;
DROP TABLE domains;
ALTER TABLE domains_new RENAME TO domains;
CREATE INDEX domains_tenant ON domains(tenant_id, verified);
CREATE INDEX domains_name ON domains(domain);
CREATE UNIQUE INDEX domains_verified_name ON domains(domain) WHERE verified = 1;
CREATE UNIQUE INDEX domains_tenant_name ON domains(tenant_id, domain);
