-- The desired state of a service, recorded when its container goes live: the port it answers on (detected when the
-- request named none) and its image. Reconciliation routes and restores from these, never from a recomputation.
-- A deployment records its port too, so a rollback or a restart of its image listens where it did.
ALTER TABLE services ADD COLUMN live_port INTEGER;
ALTER TABLE services ADD COLUMN live_image TEXT;
ALTER TABLE deployments ADD COLUMN port INTEGER;
UPDATE services SET live_image = (SELECT image_id FROM deployments d WHERE d.id = services.current_deployment_id) WHERE container_id IS NOT NULL;
