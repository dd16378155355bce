// e2e support for the template catalog: the local stand-ins for the official base and service images.
import { join } from "node:path";

const SCRIPT = join(import.meta.dir, "../../scripts/template-images.sh");
let ready: Promise<void> | undefined;

/** The base-image settings pointed at the local images scripts/template-images.sh builds. */
export const TEMPLATE_BASE_IMAGES = {
  STAXA_NODE_IMAGE: "staxa-test/node-full:20",
  STAXA_BUN_IMAGE: "staxa-test/bun:1",
  STAXA_PYTHON_IMAGE: "staxa-test/python:3",
  STAXA_GO_IMAGE: "staxa-test/go:1",
  STAXA_STATIC_IMAGE: "staxa-test/caddy:2",
  STAXA_GO_RUNTIME_IMAGE: "staxa-test/go-runtime:1",
} as const;

/** Stand-in for a service template's official image, by its repository name ("postgres:16-alpine" → postgres). */
const SERVICE_STAND_INS: Record<string, string> = {
  postgres: "staxa-test/postgres:15",
  redis: "staxa-test/redis:7",
};

/** The local image standing in for `image`; throws (never skips) for a service template with none yet. */
export function standInFor(image: string): string {
  const repo = image
    .replace(/[:@].*$/, "")
    .split("/")
    .pop()!;
  const local = SERVICE_STAND_INS[repo];
  if (!local) throw new Error(`no local stand-in for ${image}: add one to scripts/template-images.sh and SERVICE_STAND_INS`);
  return local;
}

/**
 * Builds the test images and the template stand-ins once per test process (fast when present).
 * Throws when Docker is unreachable or a build fails: an e2e test must fail, never skip.
 */
export function ensureTemplateImages(): Promise<void> {
  ready ??= (async () => {
    const proc = Bun.spawn(["bash", SCRIPT], { stdout: "pipe", stderr: "pipe" });
    const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    if (code !== 0) throw new Error(`scripts/template-images.sh failed (${code}): ${(out + err).slice(-3000)}`);
  })();
  return ready;
}
