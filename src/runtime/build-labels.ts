// Image labels as ONE Dockerfile instruction: the classic builder turns each API `labels` entry into its own
// LABEL step (a container created and committed per label, ~50 ms each); one appended LABEL line costs one step.
import { lstatSync, readFileSync, realpathSync } from "node:fs";
import { join, sep } from "node:path";
import { isIgnored, parseDockerignore } from "../build/dockerignore.ts";

/** Name of the generated Dockerfile added to the build context (never a file of the repo: see labelledContext). */
export const LABELLED_DOCKERFILE = ".staxa-labelled.Dockerfile";

const MAX_DOCKERFILE_BYTES = 1024 * 1024;

/** `"value"` for a Dockerfile LABEL: backslash, quote and `$` (variable expansion) escaped; undefined when not representable. */
export function labelValue(v: string): string | undefined {
  if (/[\u0000-\u001f\u007f]/.test(v)) return undefined; // a newline would end the instruction
  return `"${v.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}

/** The `LABEL "k"="v" ...` line for `labels`; undefined when a key or value cannot be written safely. */
export function labelLine(labels: Record<string, string>): string | undefined {
  const parts: string[] = [];
  for (const k of Object.keys(labels).sort()) {
    const key = labelValue(k);
    const value = labelValue(labels[k]!);
    if (!key || !value || k === "") return undefined;
    parts.push(`${key}=${value}`);
  }
  return parts.length ? `LABEL ${parts.join(" ")}` : undefined;
}

/**
 * The user's Dockerfile with one LABEL line appended, or undefined when the API's per-label steps must be
 * used instead: the Dockerfile is not a plain file (a symlink is never read on the host), is too large,
 * sets a parser directive (`# escape=`, `# syntax=`) or ends in a line continuation (the appended line
 * would join the last instruction), or the context already holds a file of the generated name.
 */
export function labelledDockerfile(contextDir: string, dockerfile: string, labels: Record<string, string>): string | undefined {
  const line = labelLine(labels);
  if (!line) return undefined;
  try {
    lstatSync(join(contextDir, LABELLED_DOCKERFILE));
    return undefined;
  } catch {
    // absent, as expected
  }
  let text: string;
  try {
    const path = join(contextDir, dockerfile);
    const st = lstatSync(path);
    if (!st.isFile() || st.size > MAX_DOCKERFILE_BYTES) return undefined;
    // A linked directory on the way (`sub -> /etc`) must not lead the read out of the context.
    if (!realpathSync(path).startsWith(realpathSync(contextDir) + sep)) return undefined;
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  if (/^\s*#\s*(escape|syntax)\s*=/im.test(text)) return undefined;
  // Comments and blank lines do not end a continuation: look at the last line of code.
  const code = text
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== "" && !l.trimStart().startsWith("#"));
  if (/[\\`]$/.test(code.at(-1) ?? "")) return undefined;
  return `${text.replace(/\s+$/, "")}\n${line}\n`;
}

/** What to change in a build context so that the labels cost one step; see labelledContext. */
export interface LabelledContext {
  dockerfile: string; // the name to build from
  files: Array<{ name: string; content: string }>; // added to the tar
  omit: string[]; // paths (relative to the context) left out of the tar
}

/**
 * The generated Dockerfile must not reach the image (`COPY . .`): like the Docker CLI with a Dockerfile from
 * outside the context, it is listed in a `.dockerignore`, and the daemon removes the build's Dockerfile and
 * `.dockerignore` from the context when that file lists them. So the image's files stay exactly as before:
 * - no `.dockerignore` in the repo: one is added listing the generated file and itself;
 * - a `.dockerignore` listing itself: the same text plus the generated file, and the repo's Dockerfile is
 *   left out when it is listed (the daemon would have removed it as the build's Dockerfile);
 * - a `.dockerignore` that the image keeps: undefined (its text would change), the API's labels are used.
 */
export function labelledContext(
  contextDir: string,
  dockerfile: string,
  labels: Record<string, string>,
): LabelledContext | undefined {
  const content = labelledDockerfile(contextDir, dockerfile, labels);
  if (content === undefined) return undefined;
  const files = [{ name: LABELLED_DOCKERFILE, content }];
  let ignoreText: string | undefined;
  try {
    const st = lstatSync(join(contextDir, ".dockerignore"));
    if (!st.isFile() || st.size > MAX_DOCKERFILE_BYTES) return undefined;
    ignoreText = readFileSync(join(contextDir, ".dockerignore"), "utf8");
  } catch {
    ignoreText = undefined;
  }
  if (ignoreText === undefined) {
    files.push({ name: ".dockerignore", content: `${LABELLED_DOCKERFILE}\n.dockerignore\n` });
    return { dockerfile: LABELLED_DOCKERFILE, files, omit: [] };
  }
  const rules = parseDockerignore(ignoreText);
  if (!isIgnored(rules, ".dockerignore")) return undefined;
  files.push({ name: ".dockerignore", content: `${ignoreText.replace(/\s+$/, "")}\n${LABELLED_DOCKERFILE}\n` });
  const omit = [".dockerignore"];
  if (isIgnored(rules, dockerfile.replace(/^\.\//, ""))) omit.push(dockerfile.replace(/^\.\//, ""));
  return { dockerfile: LABELLED_DOCKERFILE, files, omit };
}
