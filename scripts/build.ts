// `bun run build`: builds the dashboard, embeds it, and compiles the appliance into ONE executable, dist/staxa.
import { $ } from "bun";
import { buildWeb, restorePlaceholder, writeEmbedModule } from "./build-web.ts";

const web = await buildWeb();
console.log(`built dist-web/ (${(web.gzipBytes / 1024).toFixed(1)} KB gzipped JS+CSS)`);
await $`mkdir -p dist`;
await writeEmbedModule(web);
try {
  await $`bun build --compile --minify --sourcemap=none src/main.ts --outfile dist/staxa`;
} finally {
  // The generated module only embeds for the compile; git keeps the placeholder.
  await restorePlaceholder();
}
console.log("built dist/staxa");
