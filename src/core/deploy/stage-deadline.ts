// Nothing hangs: each step of a deployment runs under a deadline (a setting per step) and the deployment's cancel
// signal. Whichever fires first ends the step at once, with the reason in words: "timed out after 600 s in build"
// or "cancelled by key_…". Work that ignores the signal is left behind, never waited for.
import type { Config } from "../../config.ts";

/** A step's budget in seconds, by the name it is reported under. */
export function stageBudgetSec(config: Config, step: string): number | undefined {
  switch (step) {
    case "provision":
    case "deploy":
      return config.startTimeoutSec;
    case "clone":
      return config.cloneTimeoutSec;
    case "build":
      return config.buildTimeoutSec;
    case "pull":
      return config.pullTimeoutSec;
    case "health":
      return config.healthTimeoutSec + 30; // the probe's own budget, plus the second port it may try
    case "route":
      return config.routeTimeoutSec;
    default:
      return undefined;
  }
}

/** The words of a timeout: the reason a deployment that ran out of time shows. */
export function timeoutReason(sec: number, step: string): string {
  return `timed out after ${sec} s in ${step}`;
}

/** Why a step was stopped: its deadline or the deployment's signal (whose reason says who cancelled). */
export class StepStopped extends Error {}

/**
 * Runs `work` with a signal that aborts at the deadline or when `outer` aborts; rejects with StepStopped (the reason
 * as message) as soon as either happens, even when `work` does not listen.
 */
export async function withinDeadline<T>(
  step: string,
  sec: number | undefined,
  outer: AbortSignal,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ctl = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort = () => {};
  const stopped = new Promise<never>((_, reject) => {
    const stop = (why: string) => {
      ctl.abort(new StepStopped(why));
      reject(new StepStopped(why));
    };
    if (sec) timer = setTimeout(() => stop(timeoutReason(sec, step)), sec * 1000);
    onAbort = () => stop(reasonOf(outer));
    outer.addEventListener("abort", onAbort, { once: true });
    if (outer.aborted) onAbort();
  });
  stopped.catch(() => undefined); // settled by the race below; never an unhandled rejection
  try {
    return await Promise.race([work(ctl.signal), stopped]);
  } catch (e) {
    if (ctl.signal.aborted) throw ctl.signal.reason; // the work's own error after an abort is only its echo
    throw e;
  } finally {
    clearTimeout(timer);
    outer.removeEventListener("abort", onAbort); // the tenant's signal outlives this step
  }
}

function reasonOf(signal: AbortSignal): string {
  const r = signal.reason;
  return r instanceof Error ? r.message : String(r ?? "cancelled");
}
