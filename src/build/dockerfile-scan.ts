// A Dockerfile read the way Docker's parser reads it: parser directives, `# escape=`, line continuations,
// comments inside continuations, case-insensitive instructions, leading `--flags`, JSON-array arguments.
// Only as much as the build policy needs; heredocs are not special (their lines are scanned as instructions).

export interface Directive {
  key: string;
  value: string;
  line: number;
}

export interface Instruction {
  /** 1-based line the instruction starts on. */
  line: number;
  /** Lower-cased instruction name (`from`, `add`, `onbuild`…). */
  name: string;
  /** Leading `--name=value` flags, in order (a flag without `=` has value ""). */
  flags: Array<{ name: string; value: string }>;
  /** Arguments: the JSON array when the instruction uses exec form, else the words. */
  args: string[];
  /** Everything after the instruction name and flags, as written. */
  rest: string;
}

export interface ScannedDockerfile {
  /** Directives of the leading comment block as Docker recognises them (`syntax`, `escape`, `check`). */
  directives: Directive[];
  /** `key=value` comments anywhere before the first instruction (`# syntax=` there is refused conservatively). */
  leadingKeyValues: Directive[];
  escape: string;
  instructions: Instruction[];
  /** A directive Docker itself would reject (an escape that is neither `\` nor a backtick). */
  invalid?: { line: number; message: string };
}

// Docker's own grammar (moby/buildkit frontend/dockerfile/parser): `# key = value` in the leading comment block.
const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const KNOWN_DIRECTIVES = new Set(["syntax", "escape", "check"]);

/** Splits a Dockerfile into directives and instructions; never throws. */
export function scanDockerfile(text: string): ScannedDockerfile {
  const lines = text
    .replace(/^\uFEFF/, "")
    .split("\n")
    .map((l) => l.replace(/\r$/, ""));
  const out: ScannedDockerfile = { directives: [], leadingKeyValues: [], escape: "\\", instructions: [] };
  let directivesDone = false;
  let seenInstruction = false;
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i]!.replace(/^[ \t]+/, "");
    if (!seenInstruction) {
      const m = DIRECTIVE.exec(trimmed);
      if (m) out.leadingKeyValues.push({ key: m[1]!.toLowerCase(), value: m[2]!, line: i + 1 });
      if (!directivesDone && m && KNOWN_DIRECTIVES.has(m[1]!.toLowerCase())) {
        const d = { key: m[1]!.toLowerCase(), value: m[2]!, line: i + 1 };
        out.directives.push(d);
        if (d.key === "escape") {
          if (d.value !== "\\" && d.value !== "`")
            out.invalid ??= { line: d.line, message: "the escape directive must be \\ or `" };
          else out.escape = d.value;
        }
        continue;
      }
      directivesDone = true;
    }
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const start = i + 1;
    let [text0, more] = cutContinuation(trimmed, out.escape);
    let logical = text0;
    while (more && i + 1 < lines.length) {
      const next = lines[++i]!;
      const t = next.replace(/^[ \t]+/, "");
      if (t.startsWith("#") || t.trim() === "") continue; // comments and empty lines inside a continuation are dropped
      [text0, more] = cutContinuation(next, out.escape);
      logical += text0;
    }
    const ins = parseInstruction(logical, start);
    if (ins) {
      out.instructions.push(ins);
      seenInstruction = true;
    }
  }
  return out;
}

/** The line without its trailing escape character, and whether the instruction continues. */
function cutContinuation(line: string, escape: string): [string, boolean] {
  const m = new RegExp(`${escape === "\\" ? "\\\\" : "`"}[ \\t]*$`).exec(line);
  return m ? [line.slice(0, m.index), true] : [line, false];
}

/** One logical line → instruction name, flags and arguments. Exported for ONBUILD's inner instruction. */
export function parseInstruction(logical: string, line: number): Instruction | undefined {
  const m = /^[ \t]*(\S+)[ \t]*([\s\S]*)$/.exec(logical);
  if (!m) return undefined;
  const name = m[1]!.toLowerCase();
  let rest = m[2]!.trim();
  const flags: Instruction["flags"] = [];
  while (rest.startsWith("--")) {
    const word = firstWord(rest);
    const eq = word.indexOf("=");
    flags.push(
      eq < 0
        ? { name: word.slice(2).toLowerCase(), value: "" }
        : { name: word.slice(2, eq).toLowerCase(), value: unquote(word.slice(eq + 1)) },
    );
    rest = rest.slice(word.length).trim();
  }
  return { line, name, flags, args: jsonArray(rest) ?? words(rest), rest };
}

/** The first whitespace-separated word, where quotes keep spaces inside it (`--mount="a b"`). */
function firstWord(s: string): string {
  let quote = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === " " || c === "\t") return s.slice(0, i);
  }
  return s;
}

function unquote(s: string): string {
  return s.replace(/^(["'])([\s\S]*)\1$/, "$2");
}

// Docker splits the shell form on whitespace alone; quotes and `$vars` are the policy's word expansion's job.
function words(s: string): string[] {
  return s.split(/[ \t\r\n]+/).filter(Boolean);
}

/** The exec form: a JSON array of strings, or undefined when `s` is not one (Docker then reads words). */
function jsonArray(s: string): string[] | undefined {
  if (!s.startsWith("[")) return undefined;
  try {
    const v: unknown = JSON.parse(s);
    return Array.isArray(v) && v.every((x) => typeof x === "string") ? v : undefined;
  } catch {
    return undefined;
  }
}
