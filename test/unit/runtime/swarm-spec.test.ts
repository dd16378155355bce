// The Swarm engine's pure parts: the service a ContainerSpec becomes, the upstreams of running tasks, node rows.
import { describe, expect, test } from "bun:test";
import { containerSpec, jobContainerSpec } from "../../../src/runtime/container-spec.ts";
import { nodeAddress, nodeRow, serviceName, serviceSpec, taskUpstreams, type TaskView } from "../../../src/runtime/swarm-spec.ts";
import { loadConfig } from "../../../src/config.ts";

const spec = containerSpec({
  tenant: "acme",
  service: "web",
  deploymentId: "dep_0123456789abcdef",
  image: "sha256:abc",
  env: { A: "1" },
  port: 8080,
  resourceSize: "small",
  network: "staxa-acme",
  cmd: ["httpd", "-f"],
});

describe("serviceSpec", () => {
  test("a service: dnsrr, host-mode port with no fixed host port, limits and reservations, caps, start-first", () => {
    const s = serviceSpec({ ...spec, replicas: 2 }, { replicas: 2 });
    expect(s).toEqual({
      Name: "staxa-acme-web-89abcdef",
      Labels: spec.labels,
      TaskTemplate: {
        ContainerSpec: {
          Image: "sha256:abc",
          Labels: spec.labels,
          Env: ["A=1", "PORT=8080"],
          Args: ["httpd", "-f"],
          CapabilityDrop: ["ALL"],
          CapabilityAdd: ["CHOWN", "DAC_OVERRIDE", "NET_BIND_SERVICE", "SETGID", "SETUID"],
          ReadOnly: false,
          Mounts: [],
          StopGracePeriod: 10e9,
        },
        Resources: {
          Limits: { NanoCPUs: 5e8, MemoryBytes: 512 * 1024 * 1024, Pids: 256 },
          Reservations: { NanoCPUs: 5e8, MemoryBytes: 512 * 1024 * 1024 },
        },
        RestartPolicy: { Condition: "any", Delay: 1e9 },
        Placement: {},
        Networks: [{ Target: "staxa-acme", Aliases: ["web"] }],
        LogDriver: { Name: "json-file", Options: { "max-size": "10m", "max-file": "3" } },
      },
      Mode: { Replicated: { Replicas: 2 } },
      UpdateConfig: { Parallelism: 1, Order: "start-first", FailureAction: "rollback", Monitor: 5e9 },
      RollbackConfig: { Parallelism: 1, Order: "start-first", FailureAction: "pause" },
      EndpointSpec: { Mode: "dnsrr", Ports: [{ Protocol: "tcp", TargetPort: 8080, PublishMode: "host" }] },
    });
  });

  test("a stateful service is pinned to the node holding its volumes", () => {
    const s = serviceSpec(
      { ...spec, volumes: [{ name: "staxa-acme-web-data", target: "/data" }] },
      { replicas: 1, pinNode: "n1" },
    );
    expect(s.TaskTemplate!.Placement).toEqual({ Constraints: ["node.id==n1"] });
    expect((s.TaskTemplate as { ContainerSpec: { Mounts: unknown[] } }).ContainerSpec.Mounts).toEqual([
      { Type: "volume", Source: "staxa-acme-web-data", Target: "/data", ReadOnly: false },
    ]);
  });

  test("a job run is a replicated job that is never restarted and publishes nothing", () => {
    const job = jobContainerSpec({
      tenant: "acme",
      service: "web",
      jobId: "job_1",
      runId: "run_0123456789",
      image: "img",
      env: {},
      command: ["true"],
      resourceSize: "small",
      network: "staxa-acme",
    });
    const s = serviceSpec(job, { replicas: 3 });
    expect([s.Mode, s.TaskTemplate!.RestartPolicy, s.EndpointSpec, s.UpdateConfig]).toEqual([
      { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } },
      { Condition: "none" },
      { Mode: "dnsrr", Ports: [] },
      undefined,
    ]);
  });

  const refused: Array<[string, Partial<typeof spec>, string]> = [
    ["host network", { network: "host" }, "network"],
    ["ingress network", { network: "ingress" }, "network"],
    ["another container's network", { network: "container:x" }, "network"],
    ["a host path as volume", { volumes: [{ name: "/etc", target: "/x" }] }, "volumes"],
    ["a relative target", { volumes: [{ name: "v", target: "x" }] }, "volumes"],
  ];
  for (const [what, over, field] of refused)
    test(`refuses ${what}`, () => {
      expect(() => serviceSpec({ ...spec, ...over }, { replicas: 1 })).toThrow(expect.objectContaining({ details: { field } }));
    });

  test("names longer than a DNS label are shortened, stably and uniquely", () => {
    const long = `staxa-${"a".repeat(40)}-${"b".repeat(30)}-12345678`;
    expect(serviceName(long)).toHaveLength(63);
    expect(serviceName(long)).toBe(serviceName(long));
    expect(serviceName(long)).not.toBe(serviceName(long.replace("b", "c")));
    expect(serviceName("staxa-acme-web-1")).toBe("staxa-acme-web-1");
  });
});

describe("taskUpstreams", () => {
  const addr = new Map([
    ["n1", "10.0.0.1"],
    ["n2", "10.0.0.2"],
  ]);
  const task = (id: string, node: string, state: string, published?: number, desired = "running"): TaskView => ({
    ID: id,
    ServiceID: "s",
    NodeID: node,
    DesiredState: desired,
    Status: {
      State: state,
      PortStatus: published ? { Ports: [{ TargetPort: 8080, PublishedPort: published, PublishMode: "host" }] } : {},
    },
  });
  test("running tasks with a published port, on known nodes; duplicates once", () => {
    expect(
      taskUpstreams(
        [
          task("a", "n1", "running", 32768),
          task("b", "n2", "running", 32768),
          task("c", "n2", "starting", 32769),
          task("d", "n1", "running", 32770, "shutdown"),
          task("e", "n3", "running", 32771),
          task("f", "n1", "running"),
          task("g", "n1", "running", 32768),
        ],
        addr,
        8080,
      ),
    ).toEqual(["10.0.0.1:32768", "10.0.0.2:32768"]);
  });
});

describe("nodes", () => {
  test("a manager reporting 0.0.0.0 is reached at its manager address", () => {
    expect(nodeAddress({ ID: "m", Status: { Addr: "0.0.0.0" }, ManagerStatus: { Addr: "10.0.0.1:2377" } })).toBe("10.0.0.1");
    expect(nodeAddress({ ID: "w", Status: { Addr: "10.0.0.2" } })).toBe("10.0.0.2");
  });
  test("a node row lists the appliance's tasks desired running on it", () => {
    const row = nodeRow(
      {
        ID: "w",
        Spec: { Role: "worker", Availability: "drain" },
        Description: { Hostname: "w1", Engine: { EngineVersion: "20.10" }, Resources: { NanoCPUs: 2e9, MemoryBytes: 1024 } },
        Status: { State: "ready", Addr: "10.0.0.2" },
      },
      [
        {
          ID: "t1",
          ServiceID: "s",
          NodeID: "w",
          DesiredState: "running",
          Status: { State: "running" },
          labels: { "staxa.tenant": "acme", "staxa.service": "web" },
        },
        { ID: "t2", ServiceID: "s", NodeID: "x", DesiredState: "running", Status: { State: "running" }, labels: {} },
      ],
    );
    expect(row).toEqual({
      id: "w",
      hostname: "w1",
      role: "worker",
      leader: false,
      address: "10.0.0.2",
      availability: "drain",
      state: "ready",
      engine_version: "20.10",
      resources: { cpus: 2, memory_bytes: 1024 },
      tasks: [{ tenant: "acme", service: "web", state: "running" }],
    });
  });
});

test("STAXA_ENGINE is docker by default, swarm on request, anything else refused naming the variable", () => {
  expect(loadConfig({}).engine).toBe("docker");
  expect(loadConfig({ STAXA_ENGINE: "swarm" }).engine).toBe("swarm");
  expect(() => loadConfig({ STAXA_ENGINE: "k8s" })).toThrow(/STAXA_ENGINE must be docker or swarm/);
});
