// A build runs only on an engine whose default runtime is staxa-runc (no NET_RAW, a pids limit for build steps),
// in the cgroup parent the wrapper recognises for the engine's cgroup driver.
import { describe, expect, test } from "bun:test";
import type Docker from "dockerode";
import { buildSandbox, cachedBuildSandbox } from "../../../src/runtime/build-sandbox.ts";
import { Upstream } from "../../../src/lib/errors.ts";

const engine = (...infos: Array<Record<string, string>>) => {
  let calls = 0;
  const docker = { info: async () => infos[Math.min(calls++, infos.length - 1)] } as unknown as Docker;
  return { docker, calls: () => calls };
};

describe("build sandbox", () => {
  test.each([
    ["cgroupfs", "/staxa-build"],
    ["systemd", "staxa-build.slice"],
  ])("the %s driver builds under %s", async (driver, parent) => {
    expect(await buildSandbox(engine({ DefaultRuntime: "staxa-runc", CgroupDriver: driver }).docker)).toEqual({
      cgroupparent: parent,
    });
  });

  test("an engine without staxa-runc as its default runtime is refused, naming the fix", async () => {
    const err = await buildSandbox(engine({ DefaultRuntime: "runc", CgroupDriver: "cgroupfs" }).docker).catch((e) => e);
    expect(err).toBeInstanceOf(Upstream);
    expect(err.message).toContain("runc, not staxa-runc");
    expect(err.message).toContain("scripts/build-runtime.sh");
  });

  test("the cache keeps an answer but asks again after a refusal", async () => {
    const e = engine({ DefaultRuntime: "runc" }, { DefaultRuntime: "staxa-runc", CgroupDriver: "cgroupfs" });
    const sandbox = cachedBuildSandbox(e.docker);
    expect(await sandbox().catch((x) => x)).toBeInstanceOf(Upstream);
    expect(await sandbox()).toEqual({ cgroupparent: "/staxa-build" });
    expect(await sandbox()).toEqual({ cgroupparent: "/staxa-build" });
    expect(e.calls()).toBe(2);
  });
});
