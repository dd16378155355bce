-- Replicas on one host: a service's desired number of containers, and the containers serving its replicas 2..n
-- (replica 1 stays services.container_id / container_ip, so a one-replica service is exactly what it was).
ALTER TABLE services ADD COLUMN replicas INTEGER NOT NULL DEFAULT 1 CHECK (replicas BETWEEN 1 AND 10);
CREATE TABLE service_replicas (
  service_id TEXT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  slot INTEGER NOT NULL CHECK (slot >= 2),
  container_id TEXT NOT NULL,
  container_ip TEXT,
  PRIMARY KEY (service_id, slot)
) WITHOUT ROWID;
