// Issue 22's framework fixtures through the real pipeline (API, git, detection, Docker, Caddy): each deploys and serves
// its page, or is refused by name. Offline: installs go to STAXA_NPM_REGISTRY, a mirror container on docker0 answering
// only from what scripts/npm-cache.ts recorded at setup; Django comes from the python stand-in image (Debian's).
// The deploys run two at a time (the appliance's two build slots), longest first, started once the appliance is up;
// each test awaits its own fixture's deploy and asserts it (2 cores under load: 458 s one at a time, 324 s two).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { dockerCli, removeByPrefix, uniqueName } from "../support/docker.ts";
import { e2eApp, git, viaCaddy } from "../support/e2e-app.ts";
import { startNpmMirror, type NpmMirror } from "../support/npm-mirror.ts";
import { TEMPLATE_BASE_IMAGES, ensureTemplateImages } from "../support/template-images.ts";

const FIXTURES = resolve(import.meta.dir, "../fixtures/frameworks");
const PREFIX = uniqueName("e2f");
const BASE = "e2e-frameworks.test";
const ADMIN_PORT = 25000 + Math.floor(Math.random() * 400) * 2;
const HTTP_PORT = ADMIN_PORT + 1;
const DEPLOY_TIMEOUT_MS = 600_000;
let caddy: TestCaddy;
let mirror: NpmMirror;
let h: Awaited<ReturnType<typeof e2eApp>>;
const cleanup: string[] = [];
const started = Date.now();

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
    STAXA_HEALTH_TIMEOUT_SEC: "60",
    STAXA_BUILD_CPUS: "2",
    STAXA_BUILD_MEMORY_MB: "2048",
    STAXA_BUILD_CONCURRENCY: "2",
    STAXA_NPM_REGISTRY: mirror.url,
    ...TEMPLATE_BASE_IMAGES,
  });
  cleanup.push(h.dataDir);
  for (const f of LONGEST_FIRST)
    deploys.set(
      f,
      inSlot(() => deploy(f, f === "laravel")),
    );
  // Awaited by its test; a rejection before then is not "unhandled".
  for (const p of deploys.values()) p.catch(() => undefined);
}, 600_000);

afterAll(async () => {
  await mirror?.stop();
  await removeByPrefix(`staxa-${PREFIX}`);
  const imgs = (await dockerCli(["images", "-q", "--filter", `reference=staxa/${PREFIX}*`])).out.split("\n").filter(Boolean);
  // Pruned: the install layers (node_modules of nine frameworks) would otherwise stay on disk after every run.
  if (imgs.length) await dockerCli(["rmi", "-f", ...new Set(imgs)]);
  await caddy?.stop();
  for (const d of cleanup) rmSync(d, { recursive: true, force: true });
  console.log(`frameworks.test.ts took ${Math.round((Date.now() - started) / 1000)} s`);
}, 600_000); // removing ~3 GB of install layers took over 2 minutes on a loaded machine

/** A local git repo holding the golden fixture's tree, as a user would push it. */
async function repo(fixture: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `${PREFIX}-repo-`));
  cleanup.push(dir);
  cpSync(join(FIXTURES, fixture, "repo"), dir, { recursive: true });
  await git(dir, "init", "-q", "-b", "main");
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "-m", "app");
  return `file://${dir}`;
}

async function deploy(fixture: string, expectFailure = false) {
  const name = `${PREFIX}-${fixture.replace(/[^a-z0-9]/g, "").slice(0, 12)}`;
  const r = await h.call("POST", "/api/v1/tenants", { name, source_type: "github", repo_url: await repo(fixture) });
  expect(r.status).toBe(202);
  const id = r.json.data.id as string;
  const t0 = Date.now();
  const events = await h.events(id, DEPLOY_TIMEOUT_MS);
  const tenant = (await h.call("GET", `/api/v1/tenants/${id}`)).json.data;
  const dep = tenant.deployments[0];
  const log = (await h.call("GET", `/api/v1/tenants/${id}/deployments/${dep.id}/logs`)).text;
  console.log(`${fixture}: ${tenant.status} in ${Math.round((Date.now() - t0) / 1000)} s`);
  if (tenant.status !== "ready" && !expectFailure) console.log(`${fixture} failed: ${dep.reason}\n${log.slice(-4000)}`);
  return { id, events, tenant, dep, log, host: `${name}.${BASE}` };
}

type Deployed = Awaited<ReturnType<typeof deploy>>;
// Every fixture below, by its build time on 2 cores (angular and nuxt ~45 s, react-router ~15 s, the last three < 5 s).
const LONGEST_FIRST = [
  ...["angular", "nuxt", "sveltekit-static", "nestjs", "sveltekit-node", "remix", "astro-node", "astro-static"],
  ...["react-router", "python-django-gunicorn", "monorepo", "laravel"],
];
const deploys = new Map<string, Promise<Deployed>>();
let freeSlots = 2;
const slotWaiters: Array<() => void> = [];
async function inSlot<T>(fn: () => Promise<T>): Promise<T> {
  while (freeSlots === 0) await new Promise<void>((r) => slotWaiters.push(r));
  freeSlots--;
  try {
    return await fn();
  } finally {
    freeSlots++;
    slotWaiters.shift()?.();
  }
}
const deployed = (fixture: string): Promise<Deployed> =>
  deploys.get(fixture) ?? Promise.reject(new Error(`${fixture}: not started`));

/** Expects `fixture`'s deploy ready as `framework`, its page through Caddy holding `body`. */
async function expectServes(fixture: string, framework: string, body: string) {
  const d = await deployed(fixture);
  expect(`${d.tenant.status} ${d.dep.framework}`).toBe(`ready ${framework}`);
  const res = await viaCaddy(HTTP_PORT, d.host);
  expect(res.status).toBe(200);
  expect(res.body).toContain(body);
  return { ...d, page: res.body };
}

// The install step got the mirror as a build arg and nothing else: the generated Dockerfile declares it, the log shows it.
const usedMirror = (log: string) => {
  expect(log).toContain("ARG npm_config_registry");
  expect(log).toContain("ARG COREPACK_NPM_REGISTRY");
};

describe("JavaScript frameworks deploy and serve, installing from the registry mirror", () => {
  const pnpm = 'RUN ["corepack", "pnpm@9", "install", "--frozen-lockfile"]'; // pnpm itself came from the mirror too
  const cases: Array<[fixture: string, framework: string, body: string, logged?: string]> = [
    ["sveltekit-node", "sveltekit", "Welcome to SvelteKit", 'CMD ["node", "build"]'],
    ["sveltekit-static", "sveltekit", "Welcome to SvelteKit", pnpm],
    ["nuxt", "nuxt", "Welcome to Nuxt"],
    ["remix", "remix", "Welcome to Remix"],
    ["react-router", "react-router", "Welcome to React Router"],
    ["astro-static", "astro", "Welcome to Astro"],
    ["astro-node", "astro", "Welcome to Astro", "EXPOSE 4321"],
    ["nestjs", "nestjs", "Hello from NestJS"],
  ];
  for (const [fixture, framework, body, logged] of cases) {
    test(
      `${fixture} deploys as ${framework} and serves its page`,
      async () => {
        const d = await expectServes(fixture, framework, body);
        usedMirror(d.log);
        if (logged) expect(d.log).toContain(logged);
      },
      DEPLOY_TIMEOUT_MS,
    );
  }

  test(
    "angular deploys as a static site whose bundle renders the component",
    async () => {
      const d = await expectServes("angular", "angular", "<app-root></app-root>");
      usedMirror(d.log);
      const main = /src="(main(-[A-Za-z0-9]+)?\.js)"/.exec(d.page)?.[1]; // hashed only with a production configuration
      if (!main) console.log(d.page);
      expect(main).toBeDefined();
      const js = await viaCaddy(HTTP_PORT, d.host, `/${main}`);
      expect(js.status).toBe(200);
      expect(js.body).toContain("Hello Angular");
    },
    DEPLOY_TIMEOUT_MS,
  );

  test("every package the builds installed came from the mirror's recordings", async () => {
    await Promise.allSettled(cases.map(([f]) => deployed(f)).concat(deployed("angular")));
    expect(await mirror.misses()).toEqual([]);
  });
});

describe("other frameworks", () => {
  test(
    "a Django app under gunicorn deploys and serves",
    async () => {
      const d = await expectServes("python-django-gunicorn", "django", "hello from django");
      expect(d.log).toContain("gunicorn mysite.wsgi:application --bind 0.0.0.0:$PORT");
    },
    DEPLOY_TIMEOUT_MS,
  );

  test(
    "a monorepo app under staxa.json's root deploys from that directory on its port",
    async () => {
      const d = await expectServes("monorepo", "node", "hello from node");
      expect(d.log).toContain("EXPOSE 4000"); // staxa.json's port, read from apps/web's context
      expect(d.log).toContain('CMD ["sh", "-c", "node server.js"]');
    },
    DEPLOY_TIMEOUT_MS,
  );

  test(
    "a Laravel app is refused by name with the Dockerfile and staxa.json way out",
    async () => {
      const d = await deployed("laravel");
      expect(d.tenant.status).toBe("failed");
      expect(d.dep).toMatchObject({ status: "failed", framework: "laravel" });
      expect(d.dep.reason).toStartWith("Laravel app detected (composer.json requires laravel/framework)");
      expect(d.dep.reason).toContain('"root" in staxa.json');
      expect(d.log.trimEnd().split("\n").at(-1)).toStartWith("[error] build failed: Laravel app detected");
    },
    DEPLOY_TIMEOUT_MS,
  );
});
