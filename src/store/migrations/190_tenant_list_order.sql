-- The tenant list sorts by (created_at, id) and (name, id): with id in the index the page is read in order and stops
-- after `limit` rows, instead of sorting ties in a temporary b-tree whose work grows with the provider's tenants.
CREATE INDEX tenants_provider_created_id ON tenants(provider_id, mode, created_at, id);
CREATE INDEX tenants_provider_name_id ON tenants(provider_id, mode, name, id);
DROP INDEX tenants_provider;
DROP INDEX tenants_provider_name;
