// `bun run build`: compiles the appliance into ONE executable, dist/staxa.
import { $ } from "bun";

await $`mkdir -p dist`;
await $`bun build --compile --minify --sourcemap=none src/main.ts --outfile dist/staxa`;
console.log("built dist/staxa");
