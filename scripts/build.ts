// `bun run build`: builds the dashboard, embeds it and the template sources, and compiles the appliance into ONE executable, dist/staxa.
import { $ } from "bun";
import { rmSync, statSync, writeFileSync } from "node:fs";
import { buildWeb, restorePlaceholder, writeEmbedModule } from "./build-web.ts";
import { restoreTemplatesPlaceholder, writeTemplatesModule } from "./build-templates.ts";

const web = await buildWeb();
console.log(`built dist-web/ (${(web.gzipBytes / 1024).toFixed(1)} KB gzipped JS+CSS)`);
await $`mkdir -p dist`;
// Embed + compile + restore must not interleave with another build in the same tree (parallel test
// suites, several shells): one would compile the other's restored placeholder. A lock file serialises it.
const lock = "dist/.build.lock";
const deadline = Date.now() + 300_000;
for (;;) {
  try {
    writeFileSync(lock, String(process.pid), { flag: "wx" });
    break;
  } catch {
    const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > 300_000 || Date.now() > deadline)
      rmSync(lock, { force: true }); // left by a killed build
    else await Bun.sleep(200);
  }
}
try {
  await writeEmbedModule(web);
  const tpl = await writeTemplatesModule(); // templates deploy from these without network (src/templates-bundle.ts)
  console.log(`embedded ${tpl.templates} template sources (${tpl.files} files, ${(tpl.bytes / 1024).toFixed(0)} KB)`);
  await $`bun build --compile --minify --sourcemap=none src/main.ts --outfile dist/staxa`;
} finally {
  // The generated module only embeds for the compile; git keeps the placeholder.
  await restorePlaceholder();
  await restoreTemplatesPlaceholder();
  rmSync(lock, { force: true });
}
console.log("built dist/staxa");
