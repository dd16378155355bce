// `staxa jobs list|create|get|runs|run|pause|resume|delete <tenant> …`: a tenant's scheduled jobs.
// The command is given after `--` and sent as an argv array: nothing here joins it into a shell string.
import type { Flags } from "../args.ts";
import { UsageError } from "../args.ts";
import type { ApiClient } from "./http.ts";
import { show, table, type Out } from "./output.ts";
import { resolveTenant } from "./tenants.ts";

interface Job {
  id: string;
  service: string;
  schedule: string;
  command: string[];
  concurrency_policy: string;
  paused: boolean;
  next_run_at: string | null;
}
interface Run {
  id: string;
  trigger: string;
  status: string;
  exit_code: number | null;
  duration_ms: number | null;
  started_at: string;
  reason: string | null;
  logs?: string;
}

/** The body of `jobs create`: flags plus the argv after `--`. */
export function jobBody(flags: Pick<Flags, "string">, argv: string[]): Record<string, unknown> {
  const schedule = flags.string("schedule", { required: true })!;
  const service = flags.string("service") ?? "web";
  const timeout = flags.string("timeout");
  const policy = flags.string("policy");
  if (argv.length === 0) throw new UsageError('give the command after "--", e.g. -- node cron.js');
  if (timeout !== undefined && !/^\d+$/.test(timeout)) throw new UsageError("--timeout is a number of seconds");
  return {
    schedule,
    service,
    command: argv,
    ...(timeout ? { timeout_sec: Number(timeout) } : {}),
    ...(policy ? { concurrency_policy: policy } : {}),
  };
}

export async function jobsCommand(api: ApiClient, out: Out, sub: string | undefined, flags: Flags): Promise<number> {
  const [, ref, jobId, ...rest] = flags.positionals;
  if (sub === "create") {
    // `staxa jobs create TENANT --schedule … -- argv…`: everything after TENANT is the command.
    const body = jobBody(flags, flags.positionals.slice(2));
    flags.done();
    const res = await api.call("POST", `/tenants/${await resolveTenant(api, ref)}/jobs`, body);
    const j = res!.data as Job;
    show(
      out,
      j,
      () => `created ${j.id}: "${j.schedule}" ${JSON.stringify(j.command)} on ${j.service}, next run ${j.next_run_at ?? "-"}\n`,
    );
    return 0;
  }
  flags.done();
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
  const id = await resolveTenant(api, ref);
  const need = () => {
    if (!jobId) throw new UsageError(`usage: staxa jobs ${sub} TENANT JOB_ID`);
    return `/tenants/${id}/jobs/${jobId}`;
  };
  switch (sub) {
    case "list": {
      const jobs = (await api.call("GET", `/tenants/${id}/jobs`))!.data as Job[];
      show(out, jobs, () =>
        table(
          ["ID", "SCHEDULE", "SERVICE", "POLICY", "PAUSED", "NEXT RUN", "COMMAND"],
          jobs.map((j) => [
            j.id,
            j.schedule,
            j.service,
            j.concurrency_policy,
            j.paused,
            j.next_run_at ?? "-",
            JSON.stringify(j.command),
          ]),
        ),
      );
      return 0;
    }
    case "get": {
      const j = (await api.call("GET", need()))!.data as Job;
      show(
        out,
        j,
        () =>
          `${j.id}: "${j.schedule}" ${JSON.stringify(j.command)} on ${j.service}, ${j.concurrency_policy}${j.paused ? ", paused" : ""}, next run ${j.next_run_at ?? "-"}\n`,
      );
      return 0;
    }
    case "runs": {
      const runs = (await api.call("GET", `${need()}/runs`))!.data as Run[];
      show(out, runs, () =>
        table(
          ["RUN", "TRIGGER", "STATUS", "EXIT", "MS", "STARTED", "REASON"],
          runs.map((r) => [r.id, r.trigger, r.status, r.exit_code ?? "-", r.duration_ms ?? "-", r.started_at, r.reason ?? ""]),
        ),
      );
      return 0;
    }
    case "run": {
      const r = (await api.call("POST", `${need()}/run`))!.data as Run;
      show(out, r, () => `started ${r.id}; see: staxa jobs runs ${ref} ${jobId}\n`);
      return 0;
    }
    case "pause":
    case "resume": {
      const j = (await api.call("POST", `${need()}/${sub}`))!.data as Job;
      show(out, j, () => `${j.id} ${j.paused ? "paused" : `resumed, next run ${j.next_run_at ?? "-"}`}\n`);
      return 0;
    }
    case "delete": {
      await api.call("DELETE", need());
      show(out, { id: jobId, deleted: true }, () => `deleted ${jobId}\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown jobs command "${sub ?? ""}" (list|create|get|runs|run|pause|resume|delete)`);
  }
}
