// Pure decisions of the job scheduler: what a due fire does given the runs still going, and which fires are due.
import type { ConcurrencyPolicy } from "../../store/jobs.ts";

export type Decision =
  | { action: "run" }
  | { action: "skip"; reason: string }
  /** Stop these runs (ended `replaced`), then run. */
  | { action: "replace"; stop: string[] };

/** Runs of one job going at once under `allow`: a slow job every minute must not pile up containers without end. */
export const MAX_PARALLEL_RUNS = 3;

/**
 * forbid: a run still going means this fire is skipped (recorded as a `skipped` run with the reason).
 * allow: run side by side, up to MAX_PARALLEL_RUNS (then skipped). replace: stop whatever runs, then run.
 */
export function decide(policy: ConcurrencyPolicy, running: string[]): Decision {
  if (running.length === 0) return { action: "run" };
  if (policy === "allow") {
    return running.length < MAX_PARALLEL_RUNS
      ? { action: "run" }
      : { action: "skip", reason: `${running.length} runs are still going, the most concurrency_policy allow permits` };
  }
  if (policy === "forbid") return { action: "skip", reason: `run ${running[0]} is still going (concurrency_policy forbid)` };
  return { action: "replace", stop: [...running] };
}

/** At most this many missed fires are counted (the count is only reported). */
export const MISSED_COUNT_CAP = 1000;

/**
 * Given the fire time the job waited for (`nextRunAt`), now, and the schedule's next-fire function: whether a
 * run is due, how many further fires were missed (the appliance was down, or the clock jumped), and the next
 * fire time to wait for. Missed fires are never replayed one by one: the due fire is run once (trigger
 * `catch-up` when others were missed), under the same concurrency policy.
 */
export function dueFires(
  nextRunAt: Date | null,
  now: Date,
  next: (after: Date) => Date | null,
): { due: boolean; missed: number; next: Date | null } {
  if (!nextRunAt || nextRunAt.getTime() > now.getTime()) return { due: false, missed: 0, next: nextRunAt };
  let missed = 0;
  let t = next(nextRunAt);
  while (t && t.getTime() <= now.getTime() && missed < MISSED_COUNT_CAP) {
    missed++;
    t = next(t);
  }
  return { due: true, missed, next: next(now) };
}
