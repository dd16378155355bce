// Tiny argv parser: `--flag value`, `--flag=value`, `--bool`; unknown flags are usage errors; `--help`/`-h` asks for
// the command's usage. And `usageOf`: one command's lines of a usage text, so each command has ONE usage text.
export class UsageError extends Error {}

/** `--help` or `-h` anywhere before `--`: the caller prints the command's usage on stdout and exits 0. */
export class HelpRequested extends UsageError {
  constructor() {
    super("help requested");
  }
}

export interface Flags {
  positionals: string[];
  string(name: string, opts?: { required?: boolean }): string | undefined;
  bool(name: string): boolean;
  /** Throws UsageError naming any flag not read so far. */
  done(): void;
}

export function parseArgs(argv: string[], booleans: string[] = []): Flags {
  const values = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a === "--help" || a === "-h") throw new HelpRequested();
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new UsageError(`bad flag ${a}`);
      if (eq > 0) values.set(name, a.slice(eq + 1));
      else if (booleans.includes(name)) values.set(name, true);
      else {
        const v = argv[i + 1];
        if (v === undefined || v.startsWith("--")) throw new UsageError(`--${name} needs a value`);
        values.set(name, v);
        i++;
      }
    } else if (a.startsWith("-") && a.length > 1) {
      if (booleans.includes(a.slice(1))) values.set(a.slice(1), true);
      else throw new UsageError(`unknown flag ${a}`);
    } else positionals.push(a);
  }
  const read = new Set<string>();
  return {
    positionals,
    string(name, opts) {
      read.add(name);
      const v = values.get(name);
      if (v === true) throw new UsageError(`--${name} needs a value`);
      if (v === undefined && opts?.required) throw new UsageError(`--${name} is required`);
      return v;
    },
    bool(name) {
      read.add(name);
      return values.get(name) === true || values.get(name) === "true";
    },
    done() {
      const unknown = [...values.keys()].filter((k) => !read.has(k));
      if (unknown.length) throw new UsageError(`unknown flag --${unknown[0]}`);
    },
  };
}

/**
 * The lines of `usage` that document `cmd`: each line starting `  staxa <cmd>` and the deeper-indented lines that
 * continue it; undefined when the text has none (then the caller shows the whole list).
 */
export function usageOf(usage: string, cmd: string): string | undefined {
  const lines: string[] = [];
  let inCmd = false;
  for (const line of usage.split("\n")) {
    const m = /^ {1,4}staxa (\S+)/.exec(line);
    if (m) inCmd = m[1] === cmd;
    else if (!/^ {10,}\S/.test(line)) inCmd = false;
    if (inCmd) lines.push(line);
  }
  return lines.length ? `Usage:\n${lines.join("\n")}\n` : undefined;
}
