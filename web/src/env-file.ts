// .env text <-> key/value pairs: the create form, the env editor's bulk mode and pasted files.

export interface EnvParse {
  vars: [string, string][];
  /** Line numbers (1-based) and why they were not understood. */
  problems: string[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Parses KEY=VALUE lines: `export ` prefixes, # comments, single/double quotes (\n escapes in double). */
export function parseEnv(text: string): EnvParse {
  const vars: [string, string][] = [];
  const problems: string[] = [];
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (!raw || raw.startsWith("#")) continue;
    const line = raw.replace(/^export\s+/, "");
    const eq = line.indexOf("=");
    if (eq <= 0) {
      problems.push(`line ${i + 1}: expected KEY=VALUE`);
      continue;
    }
    const key = line.slice(0, eq).trim();
    if (!KEY.test(key)) {
      problems.push(`line ${i + 1}: "${key.slice(0, 40)}" is not a valid variable name`);
      continue;
    }
    let value = line.slice(eq + 1).trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.length >= 2 && value.endsWith(q)) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    } else {
      value = value.replace(/\s+#.*$/, "");
    }
    const existing = vars.findIndex(([k]) => k === key);
    if (existing >= 0) vars.splice(existing, 1);
    vars.push([key, value]);
  }
  return { vars, problems };
}

/** Pairs back to .env text (values with spaces, quotes, # or newlines are double-quoted). */
export function formatEnv(vars: [string, string][]): string {
  return vars
    .map(([k, v]) =>
      /[\s"'#\\]/.test(v) || v === ""
        ? `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`
        : `${k}=${v}`,
    )
    .join("\n");
}
