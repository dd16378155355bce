// scripts/staxa-runc, the engine's default OCI runtime: a build step's bundle (cgroup parent /staxa-build or
// staxa-build.slice) loses CAP_NET_RAW everywhere and gets a pids limit; any other container is left as it is.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const WRAPPER = join(import.meta.dir, "../../../scripts/staxa-runc");
const CAPS = ["CAP_CHOWN", "CAP_NET_RAW", "CAP_KILL"];
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function bundle(cgroupsPath: string, pids?: { limit: number }) {
  const dir = mkdtempSync(join(tmpdir(), "staxa-runc-"));
  dirs.push(dir);
  const config = {
    process: {
      args: ["sh"],
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS, inheritable: CAPS, ambient: CAPS },
    },
    linux: { cgroupsPath, resources: pids ? { memory: { limit: 1 }, pids } : { memory: { limit: 1 } } },
  };
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  return { dir, before: JSON.stringify(config) };
}

// Stands in for runc: prints the arguments it was given.
const FAKE_RUNC = join(mkdtempSync(join(tmpdir(), "staxa-runc-bin-")), "runc");
writeFileSync(FAKE_RUNC, '#!/bin/sh\nprintf "%s\\n" "$*"\n', { mode: 0o755 });
dirs.push(dirname(FAKE_RUNC));

/** Runs the wrapper as containerd's shim does; returns what "runc" got. */
function run(args: string[]) {
  const p = Bun.spawnSync(["sh", WRAPPER, ...args], { env: { ...process.env, STAXA_RUNC_BINARY: FAKE_RUNC } });
  return { code: p.exitCode, out: p.stdout.toString().trim(), err: p.stderr.toString() };
}
const globals = ["--root", "/run/docker/runtime-runc/moby", "--log", "/tmp/log.json", "--log-format", "json"];

describe("staxa-runc", () => {
  test.each([
    ["cgroupfs build", "/staxa-build/abc123", ["create", "--bundle", "B", "--pid-file", "p", "abc123"]],
    ["systemd build", "staxa-build.slice:docker:abc123", ["create", "--bundle=B", "abc123"]],
    ["runc run -b", "/staxa-build/abc123", ["run", "-b", "B", "abc123"]],
  ])("%s: no CAP_NET_RAW in any set, pids limit 1024, then runc with the same arguments", (_n, cg, sub) => {
    const b = bundle(cg);
    const args = [...globals, ...sub.map((a) => a.replace("B", b.dir))];
    const r = run(args);
    expect(r.code).toBe(0);
    expect(r.out).toBe(args.join(" "));
    const after = JSON.parse(readFileSync(join(b.dir, "config.json"), "utf8"));
    for (const set of Object.values(after.process.capabilities)) expect(set).toEqual(["CAP_CHOWN", "CAP_KILL"]);
    expect(after.linux.resources).toEqual({ memory: { limit: 1 }, pids: { limit: 1024 } });
  });

  test("a build's own pids limit is kept", () => {
    const b = bundle("/staxa-build/x", { limit: 64 });
    run([...globals, "create", "--bundle", b.dir, "x"]);
    expect(JSON.parse(readFileSync(join(b.dir, "config.json"), "utf8")).linux.resources.pids).toEqual({ limit: 64 });
  });

  test.each([["/docker/abc"], ["/staxa-builder/abc"], ["system.slice:docker:abc"], [""]])("container in %p: untouched", (cg) => {
    const b = bundle(cg);
    const r = run([...globals, "create", "--bundle", b.dir, "abc"]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(b.dir, "config.json"), "utf8")).toBe(b.before);
  });

  test("other subcommands pass straight through", () => {
    expect(run([...globals, "kill", "abc", "KILL"]).out).toBe([...globals, "kill", "abc", "KILL"].join(" "));
    expect(run(["--version"]).out).toBe("--version");
  });

  test("fails closed: a bundle it cannot edit never reaches runc", () => {
    const dir = mkdtempSync(join(tmpdir(), "staxa-runc-"));
    dirs.push(dir);
    writeFileSync(join(dir, "config.json"), "{not json");
    const r = run([...globals, "create", "--bundle", dir, "abc"]);
    expect(r.code).not.toBe(0);
    expect(r.out).toBe("");
  });
});
