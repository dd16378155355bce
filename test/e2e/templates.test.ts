// Every template of the catalog deployed end to end through the real pipeline (API, git, detection, Docker, Caddy):
// code templates from a local repo of templates/src/<name> with no Dockerfile, service templates from their image.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { listTemplates, templateSourceDir, type Template } from "../../src/core/tenants/templates.ts";
import { startCaddy, type TestCaddy } from "../support/caddy.ts";
import { dockerCli, removeByPrefix, uniqueName } from "../support/docker.ts";
import { e2eApp, git, viaCaddy } from "../support/e2e-app.ts";
import { TEMPLATE_BASE_IMAGES, ensureTemplateImages, standInFor } from "../support/template-images.ts";

const REPO_ROOT = resolve(import.meta.dir, "../..");
const PREFIX = uniqueName("e2t");
const BASE = "e2e-templates.test";
const ADMIN_PORT = 23000 + Math.floor(Math.random() * 400) * 2;
const HTTP_PORT = ADMIN_PORT + 1;
// Next.js is the slow one (npm install of next + next build on this machine's 2 CPUs).
const DEPLOY_TIMEOUT_MS = 420_000;
let caddy: TestCaddy;
let h: Awaited<ReturnType<typeof e2eApp>>;
const cleanup: string[] = [];
const report: string[] = [];

// The catalog names a template's family; detection names what it found inside (an Express app is a Node app).
const DETECTED_AS: Record<string, string[]> = { express: ["node"], python: ["fastapi", "flask", "django", "python"] };

beforeAll(async () => {
  await ensureTemplateImages();
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
    STAXA_BUILD_MEMORY_MB: "3072",
    ...TEMPLATE_BASE_IMAGES,
  });
  cleanup.push(h.dataDir);
}, 600_000);

afterAll(async () => {
  console.log(`templates e2e:\n${report.join("\n")}`);
  await removeByPrefix(`staxa-${PREFIX}`);
  // --no-prune keeps the build's parent layers: the next run's npm/bun/go installs come from the build cache.
  const imgs = (await dockerCli(["images", "-q", "--filter", `reference=staxa/${PREFIX}*`])).out.split("\n").filter(Boolean);
  if (imgs.length) await dockerCli(["rmi", "-f", "--no-prune", ...new Set(imgs)]);
  await caddy?.stop();
  for (const d of cleanup) rmSync(d, { recursive: true, force: true });
}, 120_000);

const tenantName = (t: Template) => `${PREFIX}-${t.id.replace(/^tpl_/, "").replace(/_/g, "-")}`;

/** A local git repo holding the template's source, as a fresh clone of its GitHub repo would. */
async function templateRepo(t: Template): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `${PREFIX}-repo-`));
  cleanup.push(dir);
  const src = join(REPO_ROOT, templateSourceDir(t.id)!);
  expect(existsSync(join(src, "Dockerfile"))).toBe(false); // detection builds it, not a Dockerfile
  cpSync(src, dir, {
    recursive: true,
    filter: (p) => !/\/(node_modules|\.next|dist|__pycache__)(\/|$)/.test(p.slice(src.length)),
  });
  await git(dir, "init", "-q", "-b", "main");
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "-m", `${t.name} template`);
  return dir;
}

/** Creates the tenant as the dashboard does from a template (its port and env), waits for the end of its events. */
async function deploy(t: Template, source: Record<string, unknown>, env: Record<string, string>) {
  const started = Date.now();
  const r = await h.call("POST", "/api/v1/tenants", { name: tenantName(t), ...source, app_port: t.default_port, env });
  expect(r.status).toBe(202);
  const id = r.json.data.id as string;
  const events = await h.events(id, DEPLOY_TIMEOUT_MS);
  const tenant = (await h.call("GET", `/api/v1/tenants/${id}`)).json.data;
  const dep = tenant.deployments[0];
  if (tenant.status !== "ready") {
    const log = await h.call("GET", `/api/v1/tenants/${id}/deployments/${dep.id}/logs`);
    console.log(`${t.id} failed: ${dep.reason}\n${log.text.slice(-4000)}`);
  }
  expect(events.at(-1)?.stage).toBe("ready");
  expect(tenant.status).toBe("ready");
  const size = Number((await dockerCli(["image", "inspect", "-f", "{{.Size}}", dep.image])).out.trim());
  return { id, events, dep, host: `${tenantName(t)}.${BASE}`, seconds: (Date.now() - started) / 1000, sizeMb: size / 1e6 };
}

async function containerOf(t: Template): Promise<string> {
  const ids = (await dockerCli(["ps", "-q", "--filter", `label=staxa.tenant=${tenantName(t)}`])).out
    .trim()
    .split("\n")
    .filter(Boolean);
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

/** Runs a client program (argv) with env; `host` is how it reaches the service. */
interface Client {
  host: string;
  run(argv: string[], env?: Record<string, string>): Promise<{ code: number; out: string }>;
}
const envArgs = (env: Record<string, string>) => Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
const result = (r: { code: number; out: string; err: string }) => ({ code: r.code, out: (r.out + r.err).trim() });

/** Inside the service's own container, over loopback TCP. */
const inside = (container: string): Client => ({
  host: "127.0.0.1",
  run: async (argv, env = {}) => result(await dockerCli(["exec", ...envArgs(env), container, ...argv])),
});

/** From a throwaway container on the tenant's network, by service name: what the tenant's other services see. */
const sibling = (tenant: string, image: string): Client => ({
  host: "web",
  run: async (argv, env = {}) =>
    result(
      await dockerCli([
        "run",
        "--rm",
        "--name",
        `staxa-${PREFIX}-probe-${crypto.randomUUID().slice(0, 8)}`,
        "--network",
        `staxa-${tenant}`,
        ...envArgs(env),
        image,
        ...argv,
      ]),
    ),
});

/** A real client of each service's own protocol. */
const PROTOCOL_CHECKS: Record<string, (c: Client, env: Record<string, string>) => Promise<void>> = {
  postgres: async (c, env) => {
    expect((await c.run(["pg_isready", "-h", c.host, "-p", "5432"])).out).toContain("accepting connections");
    const login = ["psql", "-h", c.host, "-U", env.POSTGRES_USER!, "-d", env.POSTGRES_DB!, "-tAc"];
    expect(await c.run([...login, "select 40 + 2"], { PGPASSWORD: env.POSTGRES_PASSWORD! })).toEqual({ code: 0, out: "42" });
    // the password is honoured: a wrong one is refused over TCP
    const wrong = await c.run([...login, "select 1"], { PGPASSWORD: "not-the-password" });
    expect(wrong.code).not.toBe(0);
    expect(wrong.out).toContain("password authentication failed");
  },
  redis: async (c) => {
    const cli = ["redis-cli", "-h", c.host];
    expect(await c.run([...cli, "ping"])).toEqual({ code: 0, out: "PONG" });
    expect((await c.run([...cli, "set", "staxa", "template"])).out).toBe("OK");
    expect((await c.run([...cli, "get", "staxa"])).out).toBe("template");
  },
};

describe("every catalog template deploys end to end", () => {
  for (const t of listTemplates()) {
    if (t.image) {
      test(
        `${t.id}: ${t.name} runs from its image and speaks its protocol`,
        async () => {
          const check = PROTOCOL_CHECKS[t.framework];
          if (!check)
            throw new Error(`no protocol check for service template ${t.id} (${t.framework}): add one to PROTOCOL_CHECKS`);
          const env: Record<string, string> = { ...t.default_env };
          for (const k of t.required_env ?? []) env[k] = `pw-${crypto.randomUUID()}`;
          const source = {
            source_type: "image",
            image_url: standInFor(t.image!),
            ...(t.volumes ? { volumes: t.volumes } : {}),
            ...(t.command ? { command: t.command } : {}),
          };
          const d = await deploy(t, source, env);
          expect(d.dep.framework).toBe("image");
          const container = await containerOf(t);
          const mounts = JSON.parse((await dockerCli(["inspect", "-f", "{{json .Mounts}}", container])).out) as Array<{
            Type: string;
            Destination: string;
          }>;
          for (const v of t.volumes ?? [])
            expect(mounts).toContainEqual(expect.objectContaining({ Type: "volume", Destination: v.mount_path }));
          await check(inside(container), env);
          await check(sibling(tenantName(t), standInFor(t.image!)), env);
          report.push(
            `  ${t.id.padEnd(16)} image ${standInFor(t.image!).padEnd(24)} ready in ${d.seconds.toFixed(1)} s, image ${d.sizeMb.toFixed(1)} MB`,
          );
        },
        DEPLOY_TIMEOUT_MS,
      );
      continue;
    }
    test(
      `${t.id}: ${t.name} is detected, built and served through Caddy`,
      async () => {
        expect(templateSourceDir(t.id)).toBeTruthy();
        const repo = await templateRepo(t);
        const d = await deploy(t, { source_type: "github", repo_url: `file://${repo}` }, { ...t.default_env });
        const expected = DETECTED_AS[t.framework] ?? [t.framework];
        expect(expected).toContain(d.dep.framework);
        const building = d.events.find((e) => e.stage === "build" && e.data?.framework);
        expect(building?.data.framework).toBe(d.dep.framework);
        const log = await h.call("GET", `/api/v1/tenants/${d.id}/deployments/${d.dep.id}/logs`);
        expect(log.text).toContain("FROM staxa-test/"); // the base-image settings, not the official images
        expect(log.text).toContain("--- generated Dockerfile.staxa"); // the user sees the Dockerfile that was generated

        const page = await viaCaddy(HTTP_PORT, d.host);
        expect(page.status).toBe(200);
        expect(page.body).toContain(`Hello from the Staxa ${t.name} template`);
        if (t.framework === "vite") {
          // the Vite build ran (hashed bundle served) and client-side routes fall back to index.html
          const bundle = /src="(\/assets\/[^"]+\.js)"/.exec(page.body)?.[1];
          expect(bundle).toBeTruthy();
          expect((await viaCaddy(HTTP_PORT, d.host, bundle)).status).toBe(200);
          expect((await viaCaddy(HTTP_PORT, d.host, "/client/route")).body).toContain(t.name);
        }
        const user = (await dockerCli(["image", "inspect", "-f", "{{.Config.User}}", d.dep.image])).out.trim();
        expect(user).toBe("10001:10001");
        report.push(
          `  ${t.id.padEnd(16)} detected ${String(d.dep.framework).padEnd(8)} ready in ${d.seconds.toFixed(1)} s, image ${d.sizeMb.toFixed(1)} MB`,
        );
      },
      DEPLOY_TIMEOUT_MS,
    );
  }
});
