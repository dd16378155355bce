// e2e harness for the pipeline: the real context (Docker, Caddy, git) in-process, plus small HTTP helpers.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { createContext } from "../../src/cli/context.ts";
import { createApp } from "../../src/app.ts";
import { ensureProvider } from "../../src/core/identity/accounts.ts";
import { createKey } from "../../src/core/identity/keys.ts";
import { failInterrupted } from "../../src/core/deploy/reconcile.ts";
import { startResolver } from "./resolver.ts";

/** A real appliance core (no listening socket: requests go through app.handle). */
export async function e2eApp(env: Record<string, string>) {
  const dataDir = mkdtempSync(join(tmpdir(), "staxa-e2e-pipeline-"));
  // The route resolver runs beside the appliance as its own process, as under systemd.
  const resolver = await startResolver({ STAXA_DATA_DIR: dataDir, STAXA_LOG_LEVEL: "error", ...env });
  const config = loadConfig({
    STAXA_DATA_DIR: dataDir,
    STAXA_LOG_LEVEL: "error",
    STAXA_RATE_LIMIT_SCALE: "1000",
    ...env,
    STAXA_RESOLVER_PORT: String(resolver.port),
  });
  const ctx = createContext(config);
  failInterrupted(ctx);
  await ctx.proxy.init();
  const app = createApp(ctx);
  const { provider } = ensureProvider(ctx.db, { email: "e2e@example.com", name: "E2E" });
  const key = createKey(ctx.db, { providerId: provider.id, name: "e2e", mode: "live", scopes: ["*"], expiresAt: null }).raw;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await app.handle(
      new Request(`http://localhost${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  };
  /** Reads the SSE stream of a tenant until the server ends it; returns the parsed events. */
  const events = async (
    tenantId: string,
    timeoutMs = 120_000,
  ): Promise<Array<{ id: number; stage: string; status: string; message: string; data: any; deployment_id: string }>> => {
    const res = await app.handle(
      new Request(`http://localhost/api/v1/tenants/${tenantId}/events`, {
        headers: { authorization: `Bearer ${key}`, accept: "text/event-stream" },
        signal: AbortSignal.timeout(timeoutMs),
      }),
    );
    const text = await res.text();
    return [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]));
  };
  const waitDeployment = async (tenantId: string, depId: string, timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const d = (await call("GET", `/api/v1/tenants/${tenantId}/deployments/${depId}`)).json.data;
      if (d.status === "succeeded" || d.status === "failed") return d;
      await Bun.sleep(100);
    }
    throw new Error(`deployment ${depId} did not finish`);
  };
  return { ctx, app, key, call, events, waitDeployment, dataDir, config, resolver };
}

/**
 * One request through Caddy with the tenant's Host header, sent once: a connection Caddy closes or resets is a
 * failure, as it is for any client that does not resend (routing never reloads Caddy, so none should happen).
 */
export async function viaCaddy(
  httpPort: number,
  host: string,
  path = "/",
  init: { method?: string; body?: string } = {},
): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${httpPort}${path}`, {
    ...init,
    headers: { host },
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, body: await res.text() };
}

/**
 * Clients requesting through Caddy (viaCaddy) in tight loops until stop(), each on its host (a POST with a small body
 * to `post` when given, else a GET of /), counting the answers that are 200 with the wanted body and collecting every
 * other outcome as a failure.
 */
export function traffic(httpPort: number, clients: Array<{ host: string; want: (body: string) => boolean; post?: string }>) {
  let done = false;
  let ok = 0;
  const failures: string[] = [];
  const loop = async ({ host, want, post }: { host: string; want: (body: string) => boolean; post?: string }) => {
    while (!done) {
      try {
        const r = post
          ? await viaCaddy(httpPort, host, post, { method: "POST", body: `n=${ok}` })
          : await viaCaddy(httpPort, host);
        if (r.status === 200 && want(r.body)) ok++;
        else failures.push(`${host} ${r.status} ${r.body.slice(0, 80)}`);
      } catch (e) {
        failures.push(`${host} ${String(e)}`);
      }
    }
  };
  const running = clients.map(loop);
  return {
    async stop() {
      done = true;
      await Promise.all(running);
      return { ok, failures };
    },
  };
}

/** Runs git with argv in `dir` (fixture repos only). */
export async function git(dir: string, ...args: string[]): Promise<string> {
  const p = Bun.spawn(["git", "-C", dir, ...args], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" },
  });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`git ${args.join(" ")}: ${err}`);
  return out.trim();
}

/** A fixture repo on branch main serving `body` with busybox httpd on :3000; returns its dir. */
export async function fixtureRepo(body: string, opts: { extraRun?: string; cmd?: string[] } = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "staxa-e2e-repo-"));
  await git(dir, "init", "-q", "-b", "main");
  await commitVersion(dir, body, opts);
  return dir;
}

export async function commitVersion(
  dir: string,
  body: string,
  opts: { extraRun?: string; cmd?: string[] } = {},
): Promise<string> {
  const cmd = opts.cmd ?? ["busybox", "httpd", "-f", "-p", "3000", "-h", "/www"];
  writeFileSync(join(dir, "index.html"), body);
  writeFileSync(
    join(dir, "Dockerfile"),
    [
      "FROM staxa-test/busybox:latest",
      "COPY index.html /www/index.html",
      ...(opts.extraRun ? [`RUN ${opts.extraRun}`] : []),
      `CMD ${JSON.stringify(cmd)}`,
    ].join("\n") + "\n",
  );
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "-m", body);
  return git(dir, "rev-parse", "HEAD");
}
