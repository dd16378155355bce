// Validation of backup bodies: every problem is a 400 naming its field.
import { Cron } from "croner";
import { Invalid } from "../../lib/errors.ts";

export const KEEP = { min: 1, max: 100, default: 7 } as const;

/** The croner of a schedule, in UTC. Never started: only asked for fire times. */
export function cronOf(expr: string): Cron {
  return new Cron(expr, { paused: true, timezone: "UTC" });
}

function only(body: Record<string, unknown>, fields: string[]): void {
  for (const k of Object.keys(body)) if (!fields.includes(k)) throw new Invalid(k, `Unknown body field "${k}"`);
}

/**
 * A standard 5-field expression (minute hour day-of-month month day-of-week, UTC) or a nickname (@daily…). A seconds
 * field is refused: a dump or a stopped container every second would be a way to load the host and its tenants.
 */
export function parseCron(v: unknown): string {
  if (typeof v !== "string" || !v.trim()) throw new Invalid("cron", 'cron must be a cron expression such as "0 3 * * *"');
  const s = v.trim();
  if (s.length > 100) throw new Invalid("cron", "cron is at most 100 characters");
  if (!s.startsWith("@") && s.split(/\s+/).length !== 5)
    throw new Invalid("cron", "cron must have 5 fields (minute hour day-of-month month day-of-week)");
  try {
    if (!cronOf(s).nextRun()) throw new Error("it never fires");
  } catch (e) {
    throw new Invalid("cron", `cron is not a valid cron expression: ${(e as Error).message}`);
  }
  return s;
}

export function parseKeep(v: unknown): number {
  if (v === undefined) return KEEP.default;
  if (typeof v !== "number" || !Number.isInteger(v) || v < KEEP.min || v > KEEP.max)
    throw new Invalid("keep", `keep must be an integer ${KEEP.min}-${KEEP.max} (scheduled backups kept per service)`);
  return v;
}

/** PUT …/backups/schedule: {cron, keep}. */
export function parseSchedule(body: Record<string, unknown>): { cron: string; keep: number } {
  only(body, ["cron", "keep"]);
  return { cron: parseCron(body.cron), keep: parseKeep(body.keep) };
}

/** POST …/backups: {service?}; without one, every service holding data is backed up. */
export function parseCreate(body: Record<string, unknown>): { service?: string } {
  only(body, ["service"]);
  if (body.service === undefined) return {};
  if (typeof body.service !== "string" || !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(body.service))
    throw new Invalid("service", "service must name a service of the tenant");
  return { service: body.service };
}
