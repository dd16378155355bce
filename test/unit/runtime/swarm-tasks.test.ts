// The swarm engine doing to a service's tasks what one host does to a container: a job run's exit code from its task,
// a program run in the manager's own task (a clear 409 when the task runs elsewhere), and live usage answering the
// documented 409 usage_not_sampled on the swarm engine instead of an empty list that reads as an idle tenant.
import { describe, expect, test } from "bun:test";
import type Docker from "dockerode";
import { localTaskContainer, waitJobTask } from "../../../src/runtime/swarm-tasks.ts";
import { removeService } from "../../../src/runtime/swarm-services.ts";
import { fakeApp } from "../../support/fakes.ts";
import type { Cluster } from "../../../src/runtime/cluster.ts";

/** A manager whose task listing moves through `frames` (the last one repeats), and its running containers. */
function manager(frames: unknown[][], containers: Array<{ Id: string }> = []) {
  let i = 0;
  const filters: unknown[] = [];
  const docker = {
    listTasks: async () => frames[Math.min(i++, frames.length - 1)],
    listContainers: async (o: { filters: unknown }) => (filters.push(o.filters), containers),
  } as unknown as Docker;
  return { docker, filters };
}
const task = (State: string, ExitCode?: number, Err?: string) => ({
  ID: "t1",
  ServiceID: "s1",
  Status: { State, Err, ...(ExitCode === undefined ? {} : { ContainerStatus: { ExitCode } }) },
});

describe("waitJobTask", () => {
  test("the job's task ending gives its exit code: complete is 0, failed is the container's code", async () => {
    expect(await waitJobTask(manager([[task("pending")], [task("running")], [task("complete", 0)]]).docker, "s1")).toBe(0);
    expect(await waitJobTask(manager([[task("running")], [task("failed", 3)]]).docker, "s1")).toBe(3);
  });

  test("a task rejected before its container ran is an error saying why, not a made-up exit code", async () => {
    const m = manager([[task("rejected", undefined, "No such image: x")]]);
    await expect(waitJobTask(m.docker, "s1")).rejects.toThrow("the run's task rejected: No such image: x");
  });

  test("the signal stops the wait while the task still runs", async () => {
    const abort = new AbortController();
    const wait = waitJobTask(manager([[task("running")]]).docker, "s1", abort.signal);
    abort.abort();
    await expect(wait).rejects.toThrow("wait aborted");
  });
});

describe("localTaskContainer", () => {
  test("the service's running task container on the manager, found by Swarm's service label", async () => {
    const m = manager([], [{ Id: "c1" }]);
    expect(await localTaskContainer(m.docker, "s1")).toBe("c1");
    expect(m.filters).toEqual([{ label: ["com.docker.swarm.service.id=s1"], status: ["running"] }]);
  });

  test("no task on the manager: 409 task_not_on_manager naming why", async () => {
    const err = await localTaskContainer(manager([], []).docker, "s1").catch((e) => e);
    expect([err.constructor.name, err.code]).toEqual(["Conflict", "task_not_on_manager"]);
    expect(err.message).toContain("manager");
  });
});

describe("removeService", () => {
  test("a task container that already exited (a job run's) is removed once its service is gone, not waited for", async () => {
    const removed: string[] = [];
    let listing = [{ Id: "done1", State: "exited" }];
    const docker = {
      getService: () => ({ remove: async () => undefined }),
      listContainers: async () => listing,
      getContainer: (id: string) => ({
        remove: async () => {
          removed.push(id);
          listing = [];
        },
      }),
    } as unknown as Docker;
    const t0 = Date.now();
    await removeService(docker, "s1", 1);
    expect(removed).toEqual(["done1"]);
    expect(Date.now() - t0).toBeLessThan(2000); // it waited out its 20 s before
  });
});

describe("live usage on the swarm engine", () => {
  test("GET usage answers 409 usage_not_sampled naming STAXA_ENGINE=swarm; on one host it answers 200", async () => {
    const a = await fakeApp();
    const r = await a.call("POST", "/api/v1/tenants", { name: "use-t", source_type: "image", image_url: "example/web:1" });
    expect(r.status).toBe(202);
    await a.idle();
    const id = r.json.data.id;
    expect((await a.call("GET", `/api/v1/tenants/${id}/usage`)).status).toBe(200);
    (a.runtime as unknown as { cluster: Partial<Cluster> }).cluster = {};
    const u = await a.call("GET", `/api/v1/tenants/${id}/usage`);
    expect([u.status, u.json.error.code]).toEqual([409, "usage_not_sampled"]);
    expect(u.json.error.message).toContain("STAXA_ENGINE=swarm");
  });
});
