-- Custom domains are read per tenant (routes, tenant views, the tenant url): index them by tenant.
CREATE INDEX IF NOT EXISTS domains_tenant ON domains(tenant_id, verified);
