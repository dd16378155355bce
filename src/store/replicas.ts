// Service replicas 2..n (migration 170): which container serves each slot. Replica 1 is the service row's own
// container_id / container_ip, so a one-replica service has no rows here.
import type { Db } from "./db.ts";

export interface ReplicaRow {
  service_id: string;
  /** 2..replicas: the replica's number (its container is named `<first replica's name>-r<slot>`). */
  slot: number;
  container_id: string;
  container_ip: string | null;
}

/** A service's replica rows, by slot. */
export function list(db: Db, serviceId: string): ReplicaRow[] {
  return db.query<ReplicaRow, [string]>("SELECT * FROM service_replicas WHERE service_id = ? ORDER BY slot").all(serviceId);
}

/** Every replica row of every service, in one read (reconciliation's desired state). */
export function listAll(db: Db): ReplicaRow[] {
  return db.query<ReplicaRow, []>("SELECT * FROM service_replicas ORDER BY service_id, slot").all();
}

/** Records the container serving a slot (replacing whatever served it). */
export function put(db: Db, row: ReplicaRow): void {
  db.query(
    `INSERT INTO service_replicas (service_id, slot, container_id, container_ip) VALUES (?, ?, ?, ?)
     ON CONFLICT (service_id, slot) DO UPDATE SET container_id = excluded.container_id, container_ip = excluded.container_ip`,
  ).run(row.service_id, row.slot, row.container_id, row.container_ip);
}

/** Updates the address of a slot's container, when it is still `containerId` (Docker gave it a new one on restart). */
export function recordIp(db: Db, serviceId: string, slot: number, containerId: string, ip: string): void {
  db.query("UPDATE service_replicas SET container_ip = ? WHERE service_id = ? AND slot = ? AND container_id = ?").run(
    ip,
    serviceId,
    slot,
    containerId,
  );
}

/** Forgets a slot, when it is still served by `containerId` (a newer container recorded meanwhile stays). */
export function remove(db: Db, serviceId: string, slot: number, containerId: string): void {
  db.query("DELETE FROM service_replicas WHERE service_id = ? AND slot = ? AND container_id = ?").run(
    serviceId,
    slot,
    containerId,
  );
}

/** Makes a service's replica rows exactly `rows` (a rolling deploy recording its new containers). */
export function replaceAll(db: Db, serviceId: string, rows: ReplicaRow[]): void {
  db.transaction(() => {
    db.query("DELETE FROM service_replicas WHERE service_id = ?").run(serviceId);
    for (const r of rows) put(db, r);
  })();
}
