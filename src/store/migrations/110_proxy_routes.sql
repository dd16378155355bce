-- The routing table: which upstreams serve a host. The appliance writes it; the resolver process (`staxa resolver`)
-- reads it and answers Caddy's upstream lookups from memory, so Caddy's own config never holds a route and a route
-- change is a row write, whatever the number of tenants (docs/routing.md).
-- A removed host stays as a tombstone (upstreams = '', route_id = '') for an hour: a reader that follows `rev`
-- sees removals as well as changes.
CREATE TABLE proxy_hosts (
  host TEXT PRIMARY KEY,
  route_id TEXT NOT NULL,
  upstreams TEXT NOT NULL,
  tls INTEGER NOT NULL DEFAULT 0,
  rev INTEGER NOT NULL,
  changed_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX proxy_hosts_route ON proxy_hosts (route_id);
CREATE INDEX proxy_hosts_rev ON proxy_hosts (rev);
CREATE INDEX proxy_hosts_tombstones ON proxy_hosts (changed_ms) WHERE upstreams = '';

-- One row: the routing table's revision (bumped by every change, in the same transaction) and the Caddy config the
-- appliance wants, which the resolver loads back into a Caddy that restarted empty.
CREATE TABLE proxy_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  rev INTEGER NOT NULL,
  caddy_config TEXT
);
INSERT INTO proxy_state (id, rev, caddy_config) VALUES (1, 0, NULL);
