// CLI output: --json prints the API's data as JSON for scripts; otherwise aligned columns for people.
export interface Out {
  json: boolean;
  write(s: string): void;
  error(s: string): void;
  /** Asks a question on the terminal and returns the answer; absent when stdin is not a terminal (scripts, pipes). */
  ask?(question: string): Promise<string>;
}

export function stdOut(json: boolean): Out {
  const out: Out = { json, write: (s) => process.stdout.write(s), error: (s) => process.stderr.write(s) };
  if (process.stdin.isTTY) out.ask = askOnTerminal;
  return out;
}

/** The question on stderr (stdout stays clean for --json), one line read from stdin. */
async function askOnTerminal(question: string): Promise<string> {
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

/** Prints `value` as JSON (--json) or runs the human printer. */
export function show(out: Out, value: unknown, human: () => string): void {
  out.write(out.json ? JSON.stringify(value, null, 2) + "\n" : human());
}

/** Aligned columns; cells are strings, null shows as "-". */
export function table(headers: string[], rows: Array<Array<unknown>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined || c === "" ? "-" : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ")).join("\n") + "\n";
}

/** `key: value` lines for one object. */
export function fields(obj: Record<string, unknown>, keys: string[]): string {
  const w = Math.max(...keys.map((k) => k.length));
  return (
    keys
      .filter((k) => obj[k] !== undefined)
      .map((k) => `${k.padEnd(w)}  ${typeof obj[k] === "object" && obj[k] !== null ? JSON.stringify(obj[k]) : (obj[k] ?? "-")}`)
      .join("\n") + "\n"
  );
}
