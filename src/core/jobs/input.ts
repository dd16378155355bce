// Validation of a job's body (POST /tenants/{id}/jobs): every problem is a 400 naming its field.
import { Cron } from "croner";
import { Invalid } from "../../lib/errors.ts";
import type { ConcurrencyPolicy } from "../../store/jobs.ts";

export const POLICIES = ["forbid", "allow", "replace"] as const;
export const JOB_LIMITS = {
  maxArgs: 64,
  maxArgBytes: 4096,
  maxCommandBytes: 16_384,
  maxTimeoutSec: 86_400,
  defaultTimeoutSec: 3600,
} as const;
const FIELDS = new Set(["schedule", "command", "service", "timeout_sec", "concurrency_policy", "paused"]);

export interface JobInput {
  schedule: string;
  command: string[];
  service: string;
  timeoutSec: number;
  policy: ConcurrencyPolicy;
  paused: boolean;
}

/** The croner of a schedule, in UTC. Never started: only asked for fire times. */
export function cronOf(schedule: string): Cron {
  return new Cron(schedule, { paused: true, timezone: "UTC" });
}

/**
 * A standard 5-field expression (minute hour day month weekday) or a nickname (@hourly…). Seconds fields are
 * refused: one container a second per job would be a way to load the host.
 */
export function parseSchedule(v: unknown): string {
  if (typeof v !== "string" || !v.trim())
    throw new Invalid("schedule", 'schedule must be a cron expression such as "*/5 * * * *"');
  const s = v.trim();
  if (s.length > 100) throw new Invalid("schedule", "schedule is at most 100 characters");
  if (!s.startsWith("@") && s.split(/\s+/).length !== 5)
    throw new Invalid("schedule", "schedule must have 5 fields (minute hour day-of-month month day-of-week)");
  try {
    if (!cronOf(s).nextRun()) throw new Error("it never fires");
  } catch (e) {
    throw new Invalid("schedule", `schedule is not a valid cron expression: ${(e as Error).message}`);
  }
  return s;
}

/** An argv array: the container runs it as is (no shell is added; `["sh", "-c", "…"]` is the caller's choice). */
export function parseCommand(v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0)
    throw new Invalid("command", 'command must be a non-empty array of strings (argv), e.g. ["node", "cron.js"]');
  if (v.length > JOB_LIMITS.maxArgs) throw new Invalid("command", `command has at most ${JOB_LIMITS.maxArgs} arguments`);
  let total = 0;
  for (const a of v) {
    if (typeof a !== "string") throw new Invalid("command", "every command argument must be a string");
    if (a.includes("\0")) throw new Invalid("command", "command arguments may not contain NUL");
    const bytes = Buffer.byteLength(a);
    if (bytes > JOB_LIMITS.maxArgBytes)
      throw new Invalid("command", `a command argument is at most ${JOB_LIMITS.maxArgBytes} bytes`);
    total += bytes;
  }
  if (total > JOB_LIMITS.maxCommandBytes)
    throw new Invalid("command", `command is at most ${JOB_LIMITS.maxCommandBytes} bytes in all`);
  if (!v[0]) throw new Invalid("command", "command[0] (the program) may not be empty");
  return v as string[];
}

export function parseJob(body: Record<string, unknown>): JobInput {
  for (const k of Object.keys(body)) if (!FIELDS.has(k)) throw new Invalid(k, `Unknown body field "${k}"`);
  const schedule = parseSchedule(body.schedule);
  const command = parseCommand(body.command);
  if (typeof body.service !== "string" || !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(body.service))
    throw new Invalid("service", "service must name a service of the tenant");
  const t = body.timeout_sec ?? JOB_LIMITS.defaultTimeoutSec;
  if (typeof t !== "number" || !Number.isInteger(t) || t < 1 || t > JOB_LIMITS.maxTimeoutSec)
    throw new Invalid("timeout_sec", `timeout_sec must be an integer 1-${JOB_LIMITS.maxTimeoutSec}`);
  const policy = body.concurrency_policy ?? "forbid";
  if (!(POLICIES as readonly unknown[]).includes(policy))
    throw new Invalid("concurrency_policy", `concurrency_policy must be one of: ${POLICIES.join(", ")}`);
  if (body.paused !== undefined && typeof body.paused !== "boolean") throw new Invalid("paused", "paused must be a boolean");
  return {
    schedule,
    command,
    service: body.service,
    timeoutSec: t,
    policy: policy as ConcurrencyPolicy,
    paused: body.paused === true,
  };
}
