// containerSpec is pure: table-driven checks of names, labels, limits, capabilities and env.
import { describe, expect, test } from "bun:test";
import {
  CAP_ADD,
  containerName,
  containerSpec,
  RESOURCE_SIZES,
  type ContainerSpecInput,
} from "../../../src/runtime/container-spec.ts";
import { Invalid } from "../../../src/lib/errors.ts";

const base: ContainerSpecInput = {
  tenant: "acme",
  service: "web",
  deploymentId: "dep_0123456789abcdef",
  image: "staxa/acme-web:0123456789abcdef",
  env: { NODE_ENV: "production" },
  port: 3000,
  resourceSize: "small",
  network: "staxa-acme",
};

describe("containerSpec", () => {
  test("small service: the whole spec", () => {
    expect(containerSpec(base)).toEqual({
      name: "staxa-acme-web-89abcdef",
      image: "staxa/acme-web:0123456789abcdef",
      env: { NODE_ENV: "production", PORT: "3000" },
      labels: {
        "staxa.managed": "1",
        "staxa.tenant": "acme",
        "staxa.service": "web",
        "staxa.deployment": "dep_0123456789abcdef",
      },
      network: "staxa-acme",
      aliases: ["web"],
      memoryBytes: 512 * 1024 * 1024,
      nanoCpus: 500_000_000,
      pidsLimit: 256,
      capAdd: ["CHOWN", "DAC_OVERRIDE", "NET_BIND_SERVICE", "SETGID", "SETUID"],
      volumes: [],
      restartPolicy: "unless-stopped",
    });
  });

  test.each([
    ["small", 512 * 1024 * 1024, 500_000_000, 256],
    ["medium", 1024 * 1024 * 1024, 1_000_000_000, 512],
    ["large", 2048 * 1024 * 1024, 2_000_000_000, 1024],
  ] as const)("resource size %s -> memory %d, nanoCpus %d, pids %d", (size, memoryBytes, nanoCpus, pidsLimit) => {
    const s = containerSpec({ ...base, resourceSize: size });
    expect({ memoryBytes: s.memoryBytes, nanoCpus: s.nanoCpus, pidsLimit: s.pidsLimit }).toEqual({
      memoryBytes,
      nanoCpus,
      pidsLimit,
    });
  });

  test("the documented tiers are exactly three", () => {
    expect(Object.keys(RESOURCE_SIZES)).toEqual(["small", "medium", "large"]);
  });

  test.each([
    ["platform PORT wins over a user PORT", { env: { PORT: "9999", A: "1" }, port: 8080 }, { PORT: "8080", A: "1" }],
    ["empty env gets PORT", { env: {} }, { PORT: "3000" }],
  ] as const)("env: %s", (_name, over, env) => {
    expect(containerSpec({ ...base, ...over }).env).toEqual(env);
  });

  test("our labels win over extra labels, extra ones are kept", () => {
    const s = containerSpec({ ...base, labels: { "staxa.tenant": "evil", "staxa.managed": "0", "staxa.tenant_id": "ten_1" } });
    expect(s.labels).toEqual({
      "staxa.managed": "1",
      "staxa.tenant": "acme",
      "staxa.service": "web",
      "staxa.deployment": "dep_0123456789abcdef",
      "staxa.tenant_id": "ten_1",
    });
  });

  test("cmd, user and volumes pass through", () => {
    const s = containerSpec({
      ...base,
      cmd: ["busybox", "httpd", "-f"],
      user: "10001",
      volumes: [{ name: "staxa-acme-data", target: "/data" }],
    });
    expect({ cmd: s.cmd, user: s.user, volumes: s.volumes }).toEqual({
      cmd: ["busybox", "httpd", "-f"],
      user: "10001",
      volumes: [{ name: "staxa-acme-data", target: "/data" }],
    });
  });

  test("the capability list is a copy: mutating one spec cannot widen the next", () => {
    containerSpec(base).capAdd.push("SYS_ADMIN");
    expect(containerSpec(base).capAdd).toEqual([...CAP_ADD]);
  });

  test("no dangerous capability is ever added back", () => {
    for (const cap of ["NET_RAW", "SYS_ADMIN", "NET_ADMIN", "MKNOD", "SYS_PTRACE", "ALL"])
      expect(CAP_ADD as readonly string[]).not.toContain(cap);
  });

  test.each([
    ["port 0", { port: 0 }, "port"],
    ["port 70000", { port: 70000 }, "port"],
    ["port 3.5", { port: 3.5 }, "port"],
    ["unknown size", { resourceSize: "huge" as never }, "resource_size"],
  ] as const)("refuses %s", (_name, over, field) => {
    const run = () => containerSpec({ ...base, ...over });
    expect(run).toThrow(Invalid);
    try {
      run();
    } catch (e) {
      expect((e as Invalid).details.field).toBe(field);
    }
  });

  test.each([
    ["acme", "web", "dep_abcdefgh12345678", "staxa-acme-web-12345678"],
    ["a", "db", "dep_x", "staxa-a-db-dep_x"],
  ])("containerName(%s, %s, %s) = %s", (t, s, d, name) => {
    expect(containerName(t, s, d)).toBe(name);
  });
});
