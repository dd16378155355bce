// User-supplied commands (package.json scripts, Procfile, staxa.json) on their way into a Dockerfile.
import { BuildPlanError } from "./types.ts";

/** A step in exec form: the argv Docker runs, never a string Docker or the host re-parses. */
export type Step = string[];

const MAX = 4096;

/** Refuses what cannot be one shell line: NUL, newlines and other control characters, huge strings. */
export function checkCommand(source: string, value: unknown): string {
  if (typeof value !== "string") throw new BuildPlanError(`${source} must be a string`);
  const cmd = value.trim();
  if (cmd === "") throw new BuildPlanError(`${source} is empty`);
  if (cmd.length > MAX) throw new BuildPlanError(`${source} is longer than ${MAX} characters`);
  if (/[\x00-\x08\x0a-\x1f\x7f\u2028\u2029]/.test(cmd)) {
    throw new BuildPlanError(`${source} contains a newline or control character; it must be a single line`);
  }
  return cmd;
}

/** Runs `cmd` with sh inside the container; JSON quoting keeps it one argument. */
export function shell(cmd: string): Step {
  return ["sh", "-c", cmd];
}

/** A relative file path from a manifest (package.json "main"), used as a plain argument. */
export function checkRelPath(source: string, value: unknown): string {
  if (typeof value !== "string" || !/^(\.\/)?[A-Za-z0-9_][A-Za-z0-9._\/@+-]*$/.test(value) || value.split("/").includes("..")) {
    throw new BuildPlanError(`${source} must be a relative file path of letters, digits and . _ / @ + -`);
  }
  return value;
}

/** The JSON array Docker's exec form reads; JSON.stringify escapes quotes, backslashes and control characters. */
export function execForm(step: Step): string {
  const quote = (s: string) =>
    JSON.stringify(s)
      .replace(/\u2028/g, "\\u2028")
      .replace(/\u2029/g, "\\u2029");
  return `[${step.map(quote).join(", ")}]`;
}
