// What a tenant's Dockerfile may not ask the daemon for. The daemon runs `ADD <url>` and `# syntax=` frontends on
// the HOST's network (loopback, Caddy's admin API, the metadata service), and resolves a bare image id or a
// `staxa/` tag to whatever image is on this server, another provider's private build included.
import { isOwnBuild } from "../lib/image-ref.ts";
import { BuildPlanError, type BuildPlan } from "./types.ts";
import { RepoTree } from "./tree.ts";
import { parseInstruction, scanDockerfile, type Instruction } from "./dockerfile-scan.ts";
import { expandWord, knownPrefix, type Piece, type Scope } from "./dockerfile-words.ts";

export interface Violation {
  line: number;
  message: string;
}

const INSTEAD_OF_ADD = "download it in a RUN step instead (RUN curl -fsSL -o <file> <url>), which runs inside the build sandbox";

// Sources the daemon would fetch itself: http(s) (classic builder and BuildKit), git (BuildKit), ssh.
const REMOTE_STARTS = ["http://", "https://", "git://", "git@", "ssh://", "github.com/"];

/** Every rule the Dockerfile breaks, in line order; empty when it may be built. */
export function dockerfileViolations(text: string, buildArgs: Record<string, string> = {}): Violation[] {
  const df = scanDockerfile(text);
  const out: Violation[] = [];
  if (df.invalid) out.push(df.invalid);
  for (const d of df.leadingKeyValues) {
    if (d.key === "syntax")
      out.push({
        line: d.line,
        message:
          "a `# syntax=` directive asks the daemon to fetch a build frontend on the host's network; remove it (builds use the server's own builder)",
      });
  }
  // Build args given to the daemon override ARG defaults; FROM sees only the ARGs declared before the first FROM.
  const globalArgs: Scope = { vars: new Map(), absentIsUnset: true };
  const fixed = new Map(Object.entries(buildArgs).map(([k, v]) => [k, [{ text: v }] as Piece[]]));
  const stages: string[] = []; // lower-cased stage names ("" when unnamed), index = stage number
  const envOf = new Map<string, Map<string, Piece[]>>(); // a named stage's ENV, inherited by `FROM <stage>`
  // Inside a stage only ENV set by this Dockerfile is sure: an ARG or an unset name may be the base image's ENV.
  let stage: Scope = { vars: new Map(), absentIsUnset: false };
  for (const ins of df.instructions) {
    if (ins.name === "from") {
      const [image = "", as, name] = ins.args;
      const ref = expandWord(image, globalArgs, df.escape);
      const earlier = stageNamed(ref, stages);
      if (!earlier) checkImage(ins.line, "FROM", ref, image, out);
      const current = stages[stages.length - 1];
      if (current) envOf.set(current, new Map(stage.vars));
      stages.push(as?.toLowerCase() === "as" && name ? name.toLowerCase() : "");
      stage = { vars: new Map(earlier ? (envOf.get(earlier) ?? []) : []), absentIsUnset: false };
    } else if (ins.name === "arg") {
      if (!stages.length) for (const a of ins.args) declareGlobalArg(a, globalArgs, fixed, df.escape);
    } else if (ins.name === "env") {
      for (const [k, v] of envPairs(ins.args)) stage.vars.set(k, expandWord(v, stage, df.escape));
    } else if (ins.name === "onbuild") {
      const inner = parseInstruction(ins.rest, ins.line);
      // Runs later, in some other build, with variables and stages only that build knows.
      if (inner) checkInstruction(inner, { vars: new Map(), absentIsUnset: false }, [], df.escape, true, out);
    } else checkInstruction(ins, stage, stages.slice(0, -1), df.escape, false, out);
  }
  return out;
}

/** Throws BuildPlanError naming `file`, each line and what to use instead, when the Dockerfile breaks a rule. */
export function assertDockerfileAllowed(text: string, file: string, buildArgs?: Record<string, string>): void {
  const v = dockerfileViolations(text, buildArgs);
  if (v.length) throw new BuildPlanError(v.map((x) => `${file} line ${x.line}: ${x.message}`).join("; "));
}

/** Checks the Dockerfile a plan will build (the repo's, a compose service's or a generated one) before any build. */
export function assertPlanAllowed(plan: BuildPlan): void {
  const text = plan.generatedDockerfile ?? new RepoTree(plan.contextDir).read(plan.dockerfile);
  if (text === undefined) throw new BuildPlanError(`${plan.dockerfile} is not a file inside the repository`);
  assertDockerfileAllowed(text, plan.dockerfile);
}

function checkInstruction(
  ins: Instruction,
  scope: Scope,
  stages: string[],
  escape: string,
  inOnbuild: boolean,
  out: Violation[],
): void {
  const what = (inOnbuild ? "ONBUILD " : "") + ins.name.toUpperCase();
  if (ins.name === "add") {
    const sources = ins.args.length > 1 ? ins.args.slice(0, -1) : ins.args;
    for (const s of sources) {
      const { prefix, complete } = knownPrefix(expandWord(s, scope, escape));
      if (remote(prefix, complete)) {
        out.push({
          line: ins.line,
          message: complete
            ? `${what} of ${describeUrl(prefix)} would be fetched by the daemon on the host's network, outside the build sandbox; ${INSTEAD_OF_ADD}`
            : `${what} ${s}: a source that starts with a variable may be a URL, which the daemon fetches on the host's network; start it with a literal path, or ${INSTEAD_OF_ADD}`,
        });
      }
    }
  }
  for (const f of ins.flags) {
    const froms =
      f.name === "from" && (ins.name === "copy" || ins.name === "add")
        ? [f.value]
        : f.name === "mount"
          ? mountFroms(f.value)
          : [];
    for (const raw of froms) {
      const ref = expandWord(raw, scope, escape);
      if (!inOnbuild && stageNamed(ref, stages, true)) continue;
      checkImage(ins.line, `${what} --${f.name}`, ref, raw, out);
    }
  }
}

/** True when a source with this known beginning is (or may become) something the daemon fetches. */
function remote(prefix: string, complete: boolean): boolean {
  const p = prefix.trim().toLowerCase();
  if (p.includes("://") || REMOTE_STARTS.some((r) => p.startsWith(r)) || /^[\w.-]+@[\w.-]+:/.test(p)) return true;
  return !complete && REMOTE_STARTS.some((r) => r.startsWith(p));
}

/** The earlier stage `ref` names (by name; by number too for `--from`), else undefined. `stages`: those before this one. */
function stageNamed(ref: Piece[], stages: string[], byIndex = false): string | undefined {
  const { prefix, complete } = knownPrefix(ref);
  if (!complete) return undefined;
  const name = prefix.toLowerCase();
  if (name && stages.includes(name)) return name;
  if (byIndex && /^\d+$/.test(name) && Number(name) < stages.length) return stages[Number(name)] || `#${name}`;
  return undefined;
}

// The daemon resolves a bare hex string of ANY length (and `sha256:<hex>`) as an image id prefix.
const IMAGE_ID = /^(sha256:)?[0-9a-f]+$/i;

function checkImage(line: number, what: string, ref: Piece[], raw: string, out: Violation[]): void {
  const { prefix, complete } = knownPrefix(ref);
  if (!complete) {
    out.push({
      line,
      message: `${what} ${raw} names an image through a variable this Dockerfile does not set; name the image or an earlier stage literally`,
    });
  } else if (IMAGE_ID.test(prefix)) {
    out.push({
      line,
      message: `${what} ${prefix} names an image by id, which can resolve to any image on this server; name the image (registry/name:tag) or an earlier build stage`,
    });
  } else if (isOwnBuild(prefix)) {
    out.push({
      line,
      message: `${what} ${prefix} names this server's own builds (staxa/…), each one provider's code; name a public or registry image instead`,
    });
  }
}

/** `from=` values of a `--mount=type=…,from=…,…` flag. */
function mountFroms(value: string): string[] {
  return value
    .split(",")
    .map((kv) => kv.split("="))
    .filter(([k]) => k?.replace(/^["']/, "").trim().toLowerCase() === "from")
    .map(([, ...v]) => v.join("=").replace(/["']$/, ""));
}

/** `ARG a=1 b` before the first FROM: a build arg given to the daemon wins over the default. */
function declareGlobalArg(a: string, globals: Scope, fixed: Map<string, Piece[]>, escape: string): void {
  const eq = a.indexOf("=");
  const name = eq < 0 ? a : a.slice(0, eq);
  const value = fixed.get(name) ?? (eq < 0 ? undefined : expandWord(a.slice(eq + 1), globals, escape));
  if (value) globals.vars.set(name, value);
}

/** `ENV a=1 b=2` or the legacy `ENV a 1`. */
function envPairs(args: string[]): Array<[string, string]> {
  if (args.length >= 2 && !args[0]!.includes("=")) return [[args[0]!, args.slice(1).join(" ")]];
  return args.filter((a) => a.includes("=")).map((a) => [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]);
}

/** Scheme and host of a URL for the message, never its credentials or query. */
function describeUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(?:[^@/]*@)?([^/?#]*)/i.exec(url.trim());
  return m
    ? `${m[1]}${m[2]}`
    : url
        .trim()
        .replace(/^([^@:]*)@/, "…@")
        .slice(0, 80);
}
