// `staxa jobs create`: the command after `--` is sent as the argv it was given (flags like -c stay arguments).
import { describe, expect, test } from "bun:test";
import { parseArgs, UsageError } from "../../../src/cli/args.ts";
import { jobBody } from "../../../src/cli/client/jobs.ts";

const body = (argv: string[]) => {
  const f = parseArgs(argv);
  return jobBody(f, f.positionals.slice(2));
};

describe("staxa jobs create", () => {
  test("the argv after -- is kept as given, quotes and all, never joined into a shell string", () => {
    expect(
      body([
        "create",
        "shop",
        "--schedule",
        "*/5 * * * *",
        "--policy",
        "replace",
        "--timeout",
        "90",
        "--",
        "sh",
        "-c",
        "echo $HOME; rm -f /tmp/x",
        "--not-a-flag",
      ]),
    ).toEqual({
      schedule: "*/5 * * * *",
      service: "web",
      command: ["sh", "-c", "echo $HOME; rm -f /tmp/x", "--not-a-flag"],
      timeout_sec: 90,
      concurrency_policy: "replace",
    });
  });
  test("no command, no schedule or a non-numeric timeout is a usage error before any call", () => {
    expect(() => body(["create", "shop", "--schedule", "* * * * *"])).toThrow(UsageError);
    expect(() => body(["create", "shop", "--", "true"])).toThrow("--schedule is required");
    expect(() => body(["create", "shop", "--schedule", "* * * * *", "--timeout", "1m", "--", "true"])).toThrow(
      "--timeout is a number of seconds",
    );
  });
});
