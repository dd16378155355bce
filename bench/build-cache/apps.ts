// Apps with no Dockerfile, as local git repos, plus the locally built base images: shared by the detect e2e test and the bench.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { BaseImages } from "../../src/build/types.ts";

export const PREFIX = "staxa-detect";
/** Caddy from the host on the busybox test image: what caddy:2-alpine offers generated static images. */
export const STATIC_IMAGE = `${PREFIX}-test/static:1`;
export const IMAGES: BaseImages = {
  node: "staxa-test/node:20",
  bun: "staxa-test/node:20",
  python: "staxa-test/node:20",
  go: "staxa-test/node:20",
  static: STATIC_IMAGE,
  goRuntime: "staxa-test/busybox:latest",
};

const SERVER = `const http = require("http");
http.createServer((req, res) => res.end("hello from node " + req.url)).listen(Number(process.env.PORT), "0.0.0.0");
`;
const lock = (name: string) =>
  JSON.stringify(
    { name, version: "1.0.0", lockfileVersion: 3, requires: true, packages: { "": { name, version: "1.0.0" } } },
    null,
    2,
  );

export const APPS: Record<string, { files: Record<string, string>; probe: Array<[path: string, status: number, body: string]> }> =
  {
    node: {
      files: {
        "package.json": JSON.stringify({ name: "app", version: "1.0.0", scripts: { start: "node server.js" } }),
        "package-lock.json": lock("app"),
        "server.js": SERVER,
      },
      probe: [["/x", 200, "hello from node /x"]],
    },
    static: {
      files: { "index.html": "<h1>hello static</h1>\n", "about.html": "<h1>about</h1>\n" },
      probe: [
        ["/", 200, "<h1>hello static</h1>"],
        ["/about", 200, "<h1>about</h1>"],
        ["/Dockerfile.staxa", 404, ""],
        ["/Caddyfile.staxa", 404, ""],
        ["/.git/config", 404, ""],
      ],
    },
    spa: {
      files: {
        "package.json": JSON.stringify({ name: "spa", version: "1.0.0", scripts: { build: "node build.mjs" } }),
        "package-lock.json": lock("spa"),
        "staxa.json": JSON.stringify({ output: "dist" }),
        "build.mjs": `import { mkdirSync, writeFileSync } from "node:fs";
mkdirSync("dist/assets", { recursive: true });
writeFileSync("dist/index.html", "<div id=app>built spa</div>\\n");
writeFileSync("dist/assets/app.js", "console.log(1)\\n");
`,
      },
      probe: [
        ["/", 200, "built spa"],
        ["/deep/client/route", 200, "built spa"],
        ["/assets/app.js", 200, "console.log(1)"],
        ["/build.mjs", 200, "built spa"],
      ],
    },
  };

async function sh(args: string[], env: Record<string, string> = {}): Promise<string> {
  const p = Bun.spawn(args, { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${args.slice(0, 3).join(" ")} failed (${code}): ${err.slice(-2000)}`);
  return out.trim();
}
export const run = sh;

/** Builds the busybox/node test images (scripts/test-images.sh) and the static image, when missing. */
export async function ensureImages(): Promise<void> {
  await sh(["bash", join(import.meta.dir, "../../scripts/test-images.sh")]);
  if (
    await sh(["docker", "image", "inspect", STATIC_IMAGE]).then(
      () => true,
      () => false,
    )
  )
    return;
  const ctx = mkdtempSync(join(tmpdir(), `${PREFIX}-static-`));
  const root = join(ctx, "rootfs");
  const caddy = "/usr/bin/caddy";
  const libs = (await sh(["ldd", caddy])).match(/\/[^\s]+/g) ?? [];
  for (const f of [caddy, ...libs]) {
    mkdirSync(join(root, dirname(f)), { recursive: true });
    cpSync(f, join(root, f), { dereference: true });
  }
  mkdirSync(join(root, "etc/caddy"), { recursive: true });
  mkdirSync(join(root, "srv"), { recursive: true });
  writeFileSync(join(ctx, "Dockerfile"), `FROM staxa-test/busybox:latest\nCOPY rootfs/ /\nLABEL ${PREFIX}.test-image=1\n`);
  await sh(["docker", "build", "-q", "-t", STATIC_IMAGE, ctx], { DOCKER_BUILDKIT: "0" });
}

/** A bare git repo holding `files` in one commit on main; returns its file:// URL. */
export async function makeRepo(files: Record<string, string>): Promise<string> {
  const base = mkdtempSync(join(tmpdir(), `${PREFIX}-repo-`));
  const work = join(base, "work");
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(work, p)), { recursive: true });
    writeFileSync(join(work, p), text);
  }
  const env = {
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_AUTHOR_NAME: "t",
    GIT_AUTHOR_EMAIL: "t@t",
    GIT_COMMITTER_NAME: "t",
    GIT_COMMITTER_EMAIL: "t@t",
  };
  await sh(["git", "init", "-q", "-b", "main", work], env);
  await sh(["git", "-C", work, "add", "-A"], env);
  await sh(["git", "-C", work, "commit", "-q", "-m", "app"], env);
  await sh(["git", "clone", "-q", "--bare", work, join(base, "repo.git")], env);
  return `file://${join(base, "repo.git")}`;
}

/** `docker build` of a planned context (the CLI applies .dockerignore); returns the build time in ms. */
export async function dockerBuild(contextDir: string, dockerfile: string, tag: string, noCache = false): Promise<number> {
  const t0 = performance.now();
  await sh(
    ["docker", "build", "-q", ...(noCache ? ["--no-cache"] : []), "-f", join(contextDir, dockerfile), "-t", tag, contextDir],
    { DOCKER_BUILDKIT: "0" },
  );
  return performance.now() - t0;
}

/** Image size in bytes. */
export async function imageSize(tag: string): Promise<number> {
  return Number(await sh(["docker", "image", "inspect", "-f", "{{.Size}}", tag]));
}

export const readText = (p: string) => readFileSync(p, "utf8");
