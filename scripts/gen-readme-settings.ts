// Regenerates the settings table in README.md from settingsTable() in src/config.ts (`bun scripts/gen-readme-settings.ts`).
import { settingsTable } from "../src/config.ts";

const START = "<!-- settings:start -->";
const END = "<!-- settings:end -->";

/** The markdown table of every setting, its default and what it does. */
export function settingsMarkdown(): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const rows = settingsTable().map(
    ([name, def, desc]) => `| \`${name}\` | ${def ? `\`${esc(def)}\`` : "(empty)"} | ${esc(desc)} |`,
  );
  return ["| variable | default | meaning |", "|---|---|---|", ...rows].join("\n");
}

if (import.meta.main) {
  const path = new URL("../README.md", import.meta.url).pathname;
  const readme = await Bun.file(path).text();
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md lacks the ${START} ... ${END} markers`);
  const next = `${readme.slice(0, a + START.length)}\n${settingsMarkdown()}\n${readme.slice(b)}`;
  if (process.argv.includes("--check")) {
    if (next !== readme) {
      console.error("README.md settings table is stale: run bun scripts/gen-readme-settings.ts");
      process.exit(1);
    }
  } else {
    await Bun.write(path, next);
    console.log("README.md settings table updated");
  }
}
