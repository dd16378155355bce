// Security-matrix helpers: the app's own route table, path parameters filled by name, and a two-provider world over the fakes.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeGit, FakeProxy, FakeRuntime } from "./fakes.ts";
import { FakeFirewall } from "./fake-firewall.ts";
import { fakeDns } from "./dns.ts";
import { testApp } from "./ctx.ts";
import { configureDeployer, idle } from "../../src/core/deploy/deployer.ts";
import { createKey } from "../../src/core/identity/keys.ts";
import { ensureProvider } from "../../src/core/identity/accounts.ts";
import { enqueue } from "../../src/core/webhooks/delivery.ts";

export interface RouteRef {
  method: string;
  path: string;
}
const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/** Every route the app answers, read from Elysia's route table at run time (new routes are walked automatically). */
export function routeTable(app: { routes: Array<{ method: string; path: string }> }): RouteRef[] {
  const seen = new Set<string>();
  const out: RouteRef[] = [];
  for (const r of app.routes) {
    if (!HTTP_METHODS.includes(r.method)) continue;
    const k = `${r.method} ${r.path}`;
    if (!seen.has(k)) (seen.add(k), out.push({ method: r.method, path: r.path }));
  }
  return out;
}

export const routeKey = (r: RouteRef) => `${r.method} ${r.path}`;

/**
 * Routes answered without an API key, each with why. Anything not listed here must refuse a missing
 * credential with 401 and a key lacking the route's scope with 403 insufficient_scope.
 */
export const PUBLIC_ROUTES: Record<string, string> = {
  "GET /api/v1/auth/status": "the dashboard asks whether first-admin setup is pending; answers one boolean",
  "POST /api/v1/auth/setup": "first-admin setup; its credential is the one-time token printed at start-up (session tests)",
  "POST /api/v1/auth/login": "dashboard login; the credential is the email and password in the body",
  "POST /api/v1/auth/logout": "a no-op 204: sessions are stateless JWTs the client forgets",
  "POST /api/v1/github/webhook": "GitHub's push webhook; the credential is the X-Hub-Signature-256 HMAC (github-webhook tests)",
  "GET /api/v1/openapi.json": "the public API description, no data",
  "GET /api/v1/docs": "the HTML page rendering openapi.json, no data",
};

/** Routes that demand a credential but no API-key scope: they answer 401 to any API key. */
export const JWT_ONLY_ROUTES: Record<string, string> = {
  "POST /api/v1/register": "creates the provider of a dashboard identity, so only a dashboard JWT is accepted (account tests)",
  "GET /api/v1/nodes/agent/state":
    "the node agents' state; the credential is the agents' own token, never an API key or a JWT (agent-state tests)",
};

/** Routes outside /api/v1, each with why it may answer without an API key. */
export const UNVERSIONED_ROUTES: Record<string, string> = {
  "GET /metrics": "operator endpoint; guarded by STAXA_METRICS_TOKEN when set (metrics tests)",
  "GET /healthz": "liveness probe; answers only whether the store is open",
  "GET /": "the dashboard's static shell",
  "GET /assets/*": "the dashboard's static files",
  "GET /*": "dashboard history routes; any other path is a JSON 404",
  "GET /internal/tls/ask": "Caddy's on-demand TLS ask; refuses every non-loopback caller (proxy-tls-ask tests)",
};

/** The objects the fixture creates, by what fills a path parameter. */
export interface Objects {
  tenantId: string;
  tenantName: string;
  depId: string;
  serviceName: string;
  domId: string;
  ruleId: string;
  credId: string;
  webhookId: string;
  deliveryId: string;
  keyId: string;
  jobId: string;
  runId: string;
  backupId: string;
}

/**
 * How each path parameter is filled, keyed by "<last literal segment>/:<param>" (":id" means different
 * things under /tenants, /webhooks and /api-keys). kind: "parent" and "child" are provider-owned ids
 * (a child lives under a parent in the path), "name" is a name unique only inside its parent (a
 * service), "public" is no provider's object (the template catalog, GitHub owner/repo names resolved
 * through the caller's own installation, the rest of a wildcard path).
 */
export const PARAMS: Record<string, { kind: "parent" | "child" | "name" | "public"; fill: (o: Objects) => string }> = {
  "tenants/:id": { kind: "parent", fill: (o) => o.tenantId },
  "webhooks/:id": { kind: "parent", fill: (o) => o.webhookId },
  "registries/:credId": { kind: "parent", fill: (o) => o.credId },
  "api-keys/:id": { kind: "parent", fill: (o) => o.keyId },
  "deployments/:depId": { kind: "child", fill: (o) => o.depId },
  "domains/:domId": { kind: "child", fill: (o) => o.domId },
  "network-rules/:ruleId": { kind: "child", fill: (o) => o.ruleId },
  "jobs/:jobId": { kind: "child", fill: (o) => o.jobId },
  "runs/:runId": { kind: "child", fill: (o) => o.runId },
  "backups/:backupId": { kind: "child", fill: (o) => o.backupId },
  "deliveries/:deliveryId": { kind: "child", fill: (o) => o.deliveryId },
  "services/:name": { kind: "name", fill: (o) => o.serviceName },
  "repos/:repo": { kind: "public", fill: () => "app" },
  "repos/:owner": { kind: "public", fill: () => "acme" },
  "templates/:id": { kind: "public", fill: () => "nextjs" },
  "repos/*": { kind: "public", fill: () => "app/tags" },
  // The cluster's nodes are the appliance operator's, no provider's (guarded by the nodes:* scopes).
  "nodes/:nodeId": { kind: "public", fill: () => "abc" },
};

/** The parameter slots of a route path, with their PARAMS keys. */
export function paramSlots(path: string): Array<{ segment: string; key: string }> {
  const out: Array<{ segment: string; key: string }> = [];
  let literal = "";
  for (const seg of path.split("/")) {
    if (seg.startsWith(":") || seg === "*") out.push({ segment: seg, key: `${literal}/${seg}` });
    else if (seg) literal = seg;
  }
  return out;
}

/** Fills a route's parameters from `o`; `override` replaces chosen keys. Unknown parameter keys are returned in `missing`. */
export function fillPath(path: string, o: Objects, override: Record<string, string> = {}): { url: string; missing: string[] } {
  const missing: string[] = [];
  let url = path;
  for (const s of paramSlots(path)) {
    const p = PARAMS[s.key];
    if (!p) {
      missing.push(s.key);
      continue;
    }
    const v = override[s.key] ?? p.fill(o);
    url = url.replace(s.segment, encodeURIComponent(v).replace(/%2F/g, "/"));
  }
  return { url, missing };
}

/** The kinds of a route's parameters (unknown ones count as owned: they must be covered). */
export function paramKinds(path: string): string[] {
  return paramSlots(path).map((s) => PARAMS[s.key]?.kind ?? "unknown");
}

/** True when a route names at least one provider-owned object in its path. */
export function hasOwnedParam(path: string): boolean {
  return paramKinds(path).some((k) => k !== "public");
}

/** A valid body per mutating route, so that body validation passes and the ownership check is what answers. */
export const BODIES: Record<string, unknown> = {
  "PATCH /api/v1/tenants/:id": { display_name: "hijacked" },
  "POST /api/v1/tenants/:id/deployments": {},
  "POST /api/v1/tenants/:id/services": { name: "evil", source_type: "image", image_url: "example/evil:1", port: 3000 },
  "PUT /api/v1/tenants/:id/env": { HIJACK: "1" },
  "POST /api/v1/tenants/:id/domains": { domain: "hijack.example.com" },
  "POST /api/v1/tenants/:id/network-rules": {
    direction: "inbound",
    protocol: "tcp",
    target_service: "web",
    target_port: 5432,
    source_cidrs: ["198.51.100.0/24"],
  },
  "POST /api/v1/tenants/:id/jobs": { schedule: "0 3 * * *", command: ["echo", "hijacked"], service: "web" },
  "POST /api/v1/tenants/:id/backups": {},
  "PUT /api/v1/tenants/:id/backups/schedule": { cron: "0 4 * * *", keep: 3 },
  "PUT /api/v1/tenants/:id/previews": { enabled: true, allow_forks: true },
  "PATCH /api/v1/registries/:credId": { name: "hijacked" },
  "PATCH /api/v1/webhooks/:id": { description: "hijacked" },
};

/** The fake runtime with a subnet per network: restricted egress and inbound rules need one. */
class NetRuntime extends FakeRuntime {
  async networkSubnet(name: string) {
    return this.networks.has(name) ? "10.9.0.0/16" : undefined;
  }
}

export interface Reply {
  status: number;
  json: any;
  text: string;
}

/** One app over the fakes (runtime, proxy, git, firewall, DNS) with an HTTP helper taking the key per call. */
export function matrixApp() {
  const runtime = new NetRuntime();
  const proxy = new FakeProxy();
  const firewall = new FakeFirewall();
  const dataDir = mkdtempSync(join(tmpdir(), "staxa-unit-matrix-"));
  // A closed loopback port: registry calls fail fast (502) instead of leaving the machine.
  const env = {
    STAXA_DRAIN_SEC: "0",
    STAXA_DATA_DIR: dataDir,
    STAXA_PUBLIC_IP: "203.0.113.9",
    STAXA_ALLOW_PRIVATE_TARGETS: "1",
    STAXA_ALLOW_HTTP_REGISTRIES: "1",
    STAXA_ALLOW_HTTP_WEBHOOKS: "1",
  };
  const t = testApp({ runtime, proxy, git: new FakeGit(), firewall }, env);
  Object.assign(t.deps, { dns: fakeDns(), tlsProbe: async () => ({ ok: false, reason: "connection refused" }) });
  configureDeployer(t.deps, { probe: runtime.probe, healthTimeoutMs: 300 });
  const send = async (key: string | undefined, method: string, path: string, body?: unknown): Promise<Reply> => {
    const headers: Record<string, string> = key === undefined ? {} : { authorization: `Bearer ${key}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await t.app.handle(
      new Request(`http://localhost${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }),
    );
    // An event stream of one's own tenant stays open; its status is the answer, the body is not needed.
    if (res.headers.get("content-type")?.includes("text/event-stream")) {
      await res.body?.cancel();
      return { status: res.status, json: undefined, text: "" };
    }
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  };
  const newKey = (providerId: string, mode: "live" | "test", scopes: string[]) =>
    createKey(t.ctx.db, { providerId, name: `${mode} ${scopes.join(",")}`, mode, scopes, expiresAt: null }).raw;
  return { ...t, runtime, proxy, firewall, send, newKey, idle: () => idle(t.deps) };
}

export type MatrixApp = ReturnType<typeof matrixApp>;

/** Asserts a reply is a success (the fixture must be built through the API, never behind its back). */
function ok(r: Reply, what: string): Reply {
  if (r.status < 200 || r.status > 299) throw new Error(`fixture: ${what} answered ${r.status}: ${r.text.slice(0, 300)}`);
  return r;
}

/** Creates one of every object a provider can own, through the API with `key`; returns their ids. */
export async function buildObjects(
  m: MatrixApp,
  key: string,
  providerId: string,
  name: string,
  secret: string,
): Promise<Objects> {
  const s = (method: string, path: string, body?: unknown) => m.send(key, method, path, body);
  const hook = ok(
    await s("POST", "/api/v1/webhooks", {
      url: "http://127.0.0.1:9/hook",
      events: ["tenant.ready"],
      description: `${name} hook`,
    }),
    "webhook",
  ).json.data;
  const tenant = ok(
    await s("POST", "/api/v1/tenants", {
      name,
      source_type: "image",
      image_url: "example/app:1",
      app_port: 3000,
      env: { API_TOKEN: secret },
      volumes: [{ name: "data", mount_path: "/data" }], // a backup needs data to hold
    }),
    "tenant",
  ).json.data;
  await m.idle();
  const deps = ok(await s("GET", `/api/v1/tenants/${tenant.id}/deployments`), "deployments").json.data;
  const domain = ok(await s("POST", `/api/v1/tenants/${tenant.id}/domains`, { domain: `${name}.example.com` }), "domain").json
    .data;
  const rule = ok(
    await s("POST", `/api/v1/tenants/${tenant.id}/network-rules`, BODIES["POST /api/v1/tenants/:id/network-rules"]),
    "network rule",
  ).json.data;
  const job = ok(
    await s("POST", `/api/v1/tenants/${tenant.id}/jobs`, {
      schedule: "0 3 * * *",
      command: ["echo", name],
      service: "web",
      concurrency_policy: "allow",
    }),
    "job",
  ).json.data;
  const run = ok(await s("POST", `/api/v1/tenants/${tenant.id}/jobs/${job.id}/run`), "job run").json.data;
  ok(await s("PUT", `/api/v1/tenants/${tenant.id}/backups/schedule`, { cron: "0 3 * * *", keep: 2 }), "backup schedule");
  const backup = ok(await s("POST", `/api/v1/tenants/${tenant.id}/backups`), "backup").json.data[0];
  await m.idle();
  const cred = ok(
    await s("POST", "/api/v1/registries", {
      name: `${name} registry`,
      registry_url: "http://127.0.0.1:9",
      username: `${name}-user`,
      password: secret,
    }),
    "registry",
  ).json.data;
  const apiKey = ok(await s("POST", "/api/v1/api-keys", { name: `${name} extra key`, scopes: ["tenants:read"] }), "api key").json
    .data;
  // Deliveries are written by the notification listener of the webhook worker; this is its entry point.
  const mode = key.startsWith("sk_test_") ? "test" : "live";
  const [deliveryId] = enqueue(m.ctx, {
    event: "tenant.ready",
    provider_id: providerId,
    mode,
    tenant_id: tenant.id,
    data: {},
    timestamp: new Date().toISOString(),
  });
  return {
    tenantId: tenant.id,
    tenantName: name,
    depId: deps[0].id,
    serviceName: "web",
    domId: domain.id,
    ruleId: rule.id,
    credId: cred.id,
    webhookId: hook.id,
    deliveryId,
    keyId: apiKey.id,
    jobId: job.id,
    runId: run.id,
    backupId: backup.id,
  };
}

/** A second provider on the same app, with a live key holding every scope. */
export function otherProvider(m: MatrixApp, email: string) {
  const { provider } = ensureProvider(m.ctx.db, { email, name: email });
  return { providerId: provider.id, key: m.newKey(provider.id, "live", ["*"]) };
}

/** Every row of every table, as text: compared before and after a run to prove nothing changed. */
export function dumpDb(db: MatrixApp["ctx"]["db"], skip: string[] = []): Record<string, unknown[]> {
  const tables = db
    .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all();
  const out: Record<string, unknown[]> = {};
  for (const { name } of tables)
    if (!skip.includes(name))
      out[name] = db
        .query(`SELECT * FROM "${name}"`)
        .all()
        .map((r) => JSON.stringify(r))
        .sort();
  return out;
}
