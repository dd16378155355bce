// Issue 22 through the real pipeline (API, git, detection, Docker, Caddy): yarn (classic and berry) and pnpm apps
// through corepack, a gunicorn app, an app on a fixed other port, and the failures that explain themselves (an app
// bound to 127.0.0.1, a Rails app refused by name). Offline: corepack fetches yarn and pnpm from STAXA_NPM_REGISTRY, the
// mirror answering only from what scripts/npm-cache.ts recorded at setup (test/support/corepack-apps.ts).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { dockerCli, removeByPrefix, uniqueName } from "../support/docker.ts";
import { e2eApp, git, viaCaddy } from "../support/e2e-app.ts";
import { COREPACK_APPS, EMPTY_YARN_LOCK, pkg, server, writeApp, type CorepackApp } from "../support/corepack-apps.ts";
import { startNpmMirror, type NpmMirror } from "../support/npm-mirror.ts";
import { TEMPLATE_BASE_IMAGES, ensureTemplateImages } from "../support/template-images.ts";

const PREFIX = uniqueName("e2d");
const BASE = "e2e-detect.test";
const ADMIN_PORT = 24000 + Math.floor(Math.random() * 400) * 2;
const HTTP_PORT = ADMIN_PORT + 1;
const DEPLOY_TIMEOUT_MS = 300_000;
let caddy: TestCaddy;
let mirror: NpmMirror;
let h: Awaited<ReturnType<typeof e2eApp>>;
const cleanup: string[] = [];

beforeAll(async () => {
  await ensureTemplateImages();
  mirror = await startNpmMirror(`staxa-${PREFIX}-npm-mirror`);
  caddy = await startCaddy({ adminPort: ADMIN_PORT });
  h = await e2eApp({
    STAXA_BASE_DOMAIN: BASE,
    STAXA_PUBLIC_SCHEME: "http",
    STAXA_HTTP_PORT: String(HTTP_PORT),
    STAXA_HTTPS_PORT: String(HTTP_PORT + 800),
    STAXA_CADDY_ADMIN_URL: caddy.adminUrl,
    STAXA_ALLOW_FILE_REPOS: "1",
    STAXA_ALLOW_PRIVATE_TARGETS: "1",
    STAXA_DRAIN_SEC: "0",
    STAXA_HEALTH_TIMEOUT_SEC: "30",
    STAXA_BUILD_CPUS: "2",
    STAXA_BUILD_MEMORY_MB: "2048",
    STAXA_NPM_REGISTRY: mirror.url,
    ...TEMPLATE_BASE_IMAGES,
  });
  cleanup.push(h.dataDir);
}, 600_000);

afterAll(async () => {
  await mirror?.stop();
  await removeByPrefix(`staxa-${PREFIX}`);
  const imgs = (await dockerCli(["images", "-q", "--filter", `reference=staxa/${PREFIX}*`])).out.split("\n").filter(Boolean);
  if (imgs.length) await dockerCli(["rmi", "-f", "--no-prune", ...new Set(imgs)]);
  await caddy?.stop();
  for (const d of cleanup) rmSync(d, { recursive: true, force: true });
}, 120_000);

/** A local git repo of `files` (over a golden fixture's tree when `fixture` is given). */
async function repo(files: Record<string, string>, fixture?: string): Promise<string> {
  return appRepo({ fixture, files });
}

async function appRepo(app: CorepackApp, extra: Record<string, string> = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `${PREFIX}-repo-`));
  cleanup.push(dir);
  writeApp(dir, app, extra);
  await git(dir, "init", "-q", "-b", "main");
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "-m", "app");
  return `file://${dir}`;
}

async function deploy(name: string, repoUrl: string, expectFailure = false) {
  const r = await h.call("POST", "/api/v1/tenants", { name: `${PREFIX}-${name}`, source_type: "github", repo_url: repoUrl });
  expect(r.status).toBe(202);
  const id = r.json.data.id as string;
  const events = await h.events(id, DEPLOY_TIMEOUT_MS);
  const tenant = (await h.call("GET", `/api/v1/tenants/${id}`)).json.data;
  const dep = tenant.deployments[0];
  const log = (await h.call("GET", `/api/v1/tenants/${id}/deployments/${dep.id}/logs`)).text;
  if (tenant.status !== "ready" && !expectFailure) console.log(`${name} failed: ${dep.reason}\n${log.slice(-4000)}`);
  return { id, events, tenant, dep, log, host: `${PREFIX}-${name}.${BASE}` };
}

async function expectServes(d: Awaited<ReturnType<typeof deploy>>, framework: string, body: string) {
  expect(`${d.tenant.status} ${d.dep.framework}`).toBe(`ready ${framework}`);
  const res = await viaCaddy(HTTP_PORT, d.host);
  expect(res.status).toBe(200);
  expect(res.body).toContain(body);
}

describe("detected apps deploy through corepack and gunicorn", () => {
  test(
    "a yarn (classic) app deploys and serves",
    async () => {
      const d = await deploy("yarn", await appRepo(COREPACK_APPS["detect-yarn"]!));
      await expectServes(d, "node", "hello from yarn");
      expect(d.log).toContain('RUN ["corepack", "yarn", "install", "--frozen-lockfile"]');
      expect(d.log).toContain("ARG COREPACK_NPM_REGISTRY"); // corepack fetched the package manager from the mirror
    },
    DEPLOY_TIMEOUT_MS,
  );

  test(
    "a yarn berry app deploys with a node_modules layout",
    async () => {
      const d = await deploy("berry", await appRepo(COREPACK_APPS["detect-berry"]!));
      await expectServes(d, "node", "hello from yarn berry");
      expect(d.log).toContain("ENV YARN_NODE_LINKER=node-modules");
      expect(d.log).toContain("ARG COREPACK_NPM_REGISTRY"); // corepack fetched the package manager from the mirror
    },
    DEPLOY_TIMEOUT_MS,
  );

  test(
    "a pnpm app deploys with the pnpm major its lockfile names",
    async () => {
      const d = await deploy("pnpm", await appRepo(COREPACK_APPS["detect-pnpm"]!));
      await expectServes(d, "node", "hello from pnpm");
      expect(d.log).toContain('RUN ["corepack", "pnpm@9", "install", "--frozen-lockfile"]');
      expect(d.log).toContain("ARG COREPACK_NPM_REGISTRY"); // corepack fetched the package manager from the mirror
    },
    DEPLOY_TIMEOUT_MS,
  );

  test(
    "a Flask app under gunicorn deploys and serves",
    async () => {
      const d = await deploy("gunicorn", await repo({}, "python-flask-gunicorn"));
      await expectServes(d, "flask", "hello from flask under gunicorn");
      expect(d.log).toContain("gunicorn --bind 0.0.0.0:$PORT app:app");
    },
    DEPLOY_TIMEOUT_MS,
  );

  test(
    "an app that ignores PORT and listens on 8080 is found there, served, and its port recorded",
    async () => {
      const d = await deploy(
        "fixedport",
        await repo({
          "package.json": pkg(),
          "package-lock.json": JSON.stringify({
            name: "app",
            version: "1.0.0",
            lockfileVersion: 3,
            requires: true,
            packages: { "": { name: "app", version: "1.0.0" } },
          }),
          "server.js": server("hello from 8080", `8080, "0.0.0.0"`),
        }),
      );
      await expectServes(d, "node", "hello from 8080");
      const healthy = d.events.find((e) => e.stage === "health" && e.status === "done")!;
      expect(healthy.message).toContain("the app listens on port 8080, not on 3000");
      expect(healthy.data).toMatchObject({ port: 8080 });
    },
    DEPLOY_TIMEOUT_MS,
  );
});

describe("failures explain themselves", () => {
  test(
    "an app bound to 127.0.0.1 fails health with the explanatory event",
    async () => {
      const d = await deploy(
        "loopback",
        await repo({
          "package.json": pkg(),
          "yarn.lock": EMPTY_YARN_LOCK,
          "server.js": server("never seen", `Number(process.env.PORT), "127.0.0.1"`),
        }),
        true,
      );
      expect(d.tenant.status).toBe("failed");
      const err = d.events.find((e) => e.stage === "error")!;
      expect(err.message).toContain("your app listens on 127.0.0.1:3000 only; bind 0.0.0.0 or read HOST/PORT");
      expect(err.data).toMatchObject({ failed_stage: "health", listening: [{ address: "127.0.0.1", port: 3000 }] });
      expect(d.tenant.status_reason).toContain("127.0.0.1:3000 only");
      expect(d.dep.timings.health_ms).toBeLessThan(15_000); // ended by the socket table, not by the 30 s timeout
      expect(d.log.trimEnd().split("\n").at(-1)).toStartWith("[error] health failed: Health check failed");
    },
    DEPLOY_TIMEOUT_MS,
  );

  test(
    "a Rails app is refused by name with the staxa.json way out, and the refusal is in its log",
    async () => {
      const d = await deploy("rails", await repo({}, "rails"), true);
      expect(d.tenant.status).toBe("failed");
      expect(d.dep).toMatchObject({ status: "failed", framework: "rails" });
      expect(d.dep.reason).toStartWith("Rails app detected");
      expect(d.dep.reason).toContain('"root" in staxa.json');
      expect(d.log).toContain("[build] Cloning main");
      expect(d.log.trimEnd().split("\n").at(-1)).toStartWith("[error] build failed: Rails app detected");
      const list = (await h.call("GET", "/api/v1/tenants?limit=100")).json.data;
      expect(list.find((t: { id: string }) => t.id === d.id).status_reason).toStartWith("Rails app detected");
    },
    DEPLOY_TIMEOUT_MS,
  );
});

test("corepack's yarn and pnpm, and every install, came from the mirror's recordings", async () => {
  expect(await mirror.misses()).toEqual([]);
});
