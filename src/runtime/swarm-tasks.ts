// What one host does to a container, done to a Swarm service's tasks (swarm engine): wait for a job run's one task to
// end, stop a service's tasks and start them again around a volume backup, find the manager's own task container (a
// volume service is pinned there) to run a program in it.
import type Docker from "dockerode";
import { Conflict } from "../lib/errors.ts";
import { call, upstream } from "./docker-errors.ts";
import type { TaskView } from "./swarm-spec.ts";

const POLL_MS = 250;
/** Task states Swarm never leaves: the task's container has exited (or never ran). */
const ENDED = ["complete", "failed", "rejected", "shutdown", "orphaned", "remove"];

const tasksOf = async (docker: Docker, id: string) =>
  (await call("list tasks", () => docker.listTasks({ filters: { service: [id] } }))) as TaskView[];

/**
 * A job run's exit code: its replicated job's one task ended (complete: 0; failed: the container's exit code). The
 * signal stops the wait (the task keeps running), as one host's container wait.
 */
export async function waitJobTask(docker: Docker, id: string, signal?: AbortSignal): Promise<number> {
  for (;;) {
    if (signal?.aborted) throw new Error("wait aborted");
    const tasks = await tasksOf(docker, id).catch((err) => {
      throw upstream(`wait for service ${id}`, err);
    });
    const ended = tasks.find((t) => ENDED.includes(t.Status?.State ?? ""));
    if (ended) {
      const code = ended.Status?.ContainerStatus?.ExitCode;
      if (ended.Status?.State === "complete") return code ?? 0;
      if (code !== undefined && code !== 0) return code;
      // Rejected (no image, no node) or shut down before its container ran: no exit code of its own.
      throw new Error(`the run's task ${ended.Status?.State}: ${ended.Status?.Err || "no reason given"}`);
    }
    await Bun.sleep(POLL_MS);
  }
}

/** Resolves once no container of the service runs on the manager's engine (or `timeoutSec` + 10 s have passed). */
export async function untilNoLocalTask(docker: Docker, id: string, timeoutSec: number): Promise<void> {
  const filters = { label: [`com.docker.swarm.service.id=${id}`] };
  const until = Date.now() + (timeoutSec + 10) * 1000;
  while (Date.now() < until) {
    const left = await call("list containers", () => docker.listContainers({ filters }));
    if (!left.length) return;
    await Bun.sleep(POLL_MS);
  }
}

/**
 * The service's running task container on the manager's engine, where a program can be run (docker exec reaches only
 * this engine). A volume service is pinned to the manager, so its task is there; another service's task may not be.
 */
export async function localTaskContainer(docker: Docker, id: string): Promise<string> {
  const filters = { label: [`com.docker.swarm.service.id=${id}`], status: ["running"] };
  const rows = await call("list containers", () => docker.listContainers({ filters }));
  if (rows[0]) return rows[0].Id;
  throw new Conflict(
    "The service has no task running on the swarm manager: a command runs only in a task on the manager's engine " +
      "(a service with a volume is pinned there)",
    { service_id: id },
    "task_not_on_manager",
  );
}
