// .dockerignore semantics (as the Docker CLI applies them): the daemon does not filter an API build's context itself.
import { readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";

interface Rule {
  re: RegExp;
  /** A `!pattern`: re-includes what an earlier pattern excluded. */
  keep: boolean;
}

/** Parses .dockerignore text into ordered rules (the last match wins, as in Docker). */
export function parseDockerignore(text: string): Rule[] {
  const rules: Rule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const keep = line.startsWith("!");
    if (keep) line = line.slice(1).trim();
    line = line
      .replace(/^\/+/, "")
      .replace(/\/+$/, "")
      .replace(/\/\.(?=\/|$)/g, "")
      .replace(/^\.\//, "");
    if (line === "" || line === ".") continue;
    rules.push({ re: globToRegExp(line), keep });
  }
  return rules;
}

// `**` crosses directories, `*` and `?` stay inside one path segment, `[...]` is a character class.
function globToRegExp(glob: string): RegExp {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      i++;
      if (glob[i + 1] === "/") {
        i++;
        out += "(?:.*/)?";
      } else out += ".*";
    } else if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) out += "\\[";
      else {
        out += `[${glob
          .slice(i + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else if (c === "\\" && i + 1 < glob.length) out += `\\${glob[++i]}`;
    else out += c.replace(/[.+^${}()|\]\\]/g, "\\$&");
  }
  return new RegExp(`^${out}$`);
}

/** True when `rel` (slash-separated) or one of its parent directories is excluded by the rules. */
export function isIgnored(rules: Rule[], rel: string): boolean {
  const parts = rel.split("/");
  let ignored = false;
  for (const rule of rules) {
    for (let n = 1; n <= parts.length; n++) {
      if (rule.re.test(parts.slice(0, n).join("/"))) {
        ignored = !rule.keep;
        break;
      }
    }
  }
  return ignored;
}

/**
 * A tar-fs `ignore` callback for `contextDir`: applies its .dockerignore, but always sends the Dockerfile and
 * .dockerignore (the daemon needs them and removes them itself). An excluded directory is skipped whole unless
 * a `!` rule could re-include something inside it.
 */
export function contextIgnore(contextDir: string, dockerfile = "Dockerfile"): (absPath: string) => boolean {
  let text = "";
  try {
    text = readFileSync(join(contextDir, ".dockerignore"), "utf8");
  } catch {
    return () => false;
  }
  const rules = parseDockerignore(text);
  const hasExceptions = rules.some((r) => r.keep);
  const always = new Set([dockerfile.replace(/^\.\//, ""), ".dockerignore"]);
  return (absPath) => {
    const rel = relative(contextDir, absPath).split(sep).join("/");
    if (rel === "" || always.has(rel)) return false;
    if (!isIgnored(rules, rel)) return false;
    return !hasExceptions || !isDirectory(absPath);
  };
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
