// Cross-cutting access checks walked over the app's own route table: every route checks its credential and
// scope, every foreign or other-mode id answers 404 and changes nothing, and API keys behave as SECURITY.md says.
import { describe, expect, test } from "bun:test";
import {
  BODIES,
  JWT_ONLY_ROUTES,
  PARAMS,
  PUBLIC_ROUTES,
  UNVERSIONED_ROUTES,
  buildObjects,
  dumpDb,
  fillPath,
  hasOwnedParam,
  matrixApp,
  otherProvider,
  paramKinds,
  paramSlots,
  routeKey,
  routeTable,
  type MatrixApp,
  type Objects,
  type RouteRef,
} from "../../support/matrix.ts";
import { authenticateKey, generateKey, hashKey, isWellFormedKey, KeyCache } from "../../../src/core/identity/keys.ts";
import { createKey } from "../../../src/core/identity/keys.ts";
import { Unauthorized } from "../../../src/lib/errors.ts";
import type { Db } from "../../../src/store/db.ts";

const isApi = (r: RouteRef) => r.path.startsWith("/api/v1/");
/** Any value will do where the credential is checked first. */
const placeholders = (path: string) => path.replace(/:[^/]+/g, "x_placeholder").replace(/\*/g, "a/b/tags");
const bodyFor = (r: RouteRef) => BODIES[routeKey(r)] ?? (r.method === "GET" || r.method === "DELETE" ? undefined : {});

describe("scope walk over the route table", () => {
  const m = matrixApp();
  const routes = routeTable(m.app);
  const guarded = routes.filter((r) => isApi(r) && !PUBLIC_ROUTES[routeKey(r)] && !JWT_ONLY_ROUTES[routeKey(r)]);

  test("the table is read from the app, and every allow-list entry names a route that exists", () => {
    expect(guarded.length).toBeGreaterThan(50);
    const keys = new Set(routes.map(routeKey));
    const stale = [...Object.keys(PUBLIC_ROUTES), ...Object.keys(JWT_ONLY_ROUTES), ...Object.keys(UNVERSIONED_ROUTES)].filter(
      (k) => !keys.has(k),
    );
    expect(stale).toEqual([]);
  });

  test("a new route outside /api/v1 must be added to UNVERSIONED_ROUTES with its reason", () => {
    expect(routes.filter((r) => !isApi(r) && !UNVERSIONED_ROUTES[routeKey(r)]).map(routeKey)).toEqual([]);
  });

  test("no credential → 401 on every guarded route, before anything else is looked at", async () => {
    const wrong: string[] = [];
    for (const r of [...guarded, ...routes.filter((x) => JWT_ONLY_ROUTES[routeKey(x)])]) {
      const res = await m.send(undefined, r.method, placeholders(r.path), bodyFor(r));
      if (res.status !== 401 || res.json?.error?.code !== "unauthorized")
        wrong.push(`${routeKey(r)} → ${res.status} ${res.text.slice(0, 100)}`);
    }
    expect(wrong).toEqual([]);
  });

  test("a key with an unrelated scope → 403 insufficient_scope on every guarded route", async () => {
    const templatesOnly = m.newKey(m.provider.id, "live", ["templates:read"]);
    const tenantsOnly = m.newKey(m.provider.id, "live", ["tenants:read"]);
    const wrong: string[] = [];
    for (const r of guarded) {
      const key = r.path.startsWith("/api/v1/templates") ? tenantsOnly : templatesOnly;
      const res = await m.send(key, r.method, placeholders(r.path), bodyFor(r));
      if (res.status !== 403 || res.json?.error?.code !== "insufficient_scope")
        wrong.push(`${routeKey(r)} → ${res.status} ${res.text.slice(0, 100)}`);
    }
    expect(wrong).toEqual([]);
  });

  test("a key holding every read scope → 403 on every guarded route that changes something", async () => {
    const reads = [
      "account:read",
      "keys:read",
      "tenants:read",
      "deployments:read",
      "env:read",
      "domains:read",
      "network:read",
      "registries:read",
      "github:read",
      "webhooks:read",
      "templates:read",
    ];
    const readOnly = m.newKey(m.provider.id, "live", reads);
    const wrong: string[] = [];
    for (const r of guarded.filter((x) => x.method !== "GET")) {
      const res = await m.send(readOnly, r.method, placeholders(r.path), bodyFor(r));
      if (res.status !== 403 || res.json?.error?.code !== "insufficient_scope")
        wrong.push(`${routeKey(r)} → ${res.status} ${res.text.slice(0, 100)}`);
    }
    expect(wrong).toEqual([]);
  });

  test("JWT-only routes refuse every API key with 401", async () => {
    for (const k of Object.keys(JWT_ONLY_ROUTES)) {
      const [method, path] = k.split(" ");
      const res = await m.send(m.key, method, path, { email: "x@example.com" });
      expect([k, res.status]).toEqual([k, 401]);
    }
  });
});

/** What must never appear in an answer to a foreign caller. */
const leaks = (o: Objects, secret: string) => [
  o.tenantName,
  secret,
  `${o.tenantName}-user`,
  `${o.tenantName}.example.com`,
  `${o.tenantName} hook`,
];

/** Calls every owned-parameter route of `routes` in one variant; returns the wrong answers. */
async function expect404(
  m: MatrixApp,
  routes: RouteRef[],
  key: string,
  objects: Objects,
  override: Record<string, string>,
  label: string,
  secret: string,
): Promise<string[]> {
  const wrong: string[] = [];
  for (const r of routes) {
    const { url } = fillPath(r.path, objects, override);
    const res = await m.send(key, r.method, url, bodyFor(r));
    const leaked = leaks(objects, secret).filter((s) => res.text.includes(s));
    if (res.status !== 404 || res.json?.error?.code !== "not_found" || leaked.length) {
      wrong.push(
        `${label}: ${r.method} ${url} (${r.path}) → ${res.status} ${res.text.slice(0, 120)}${leaked.length ? ` LEAKED ${leaked.join(", ")}` : ""}`,
      );
    }
  }
  return wrong;
}

/** Runtime, proxy and firewall state: a refused call must not have touched the outside systems either. */
const outside = (m: MatrixApp) =>
  JSON.stringify({
    containers: [...m.runtime.containers.keys()].sort(),
    networks: [...m.runtime.networks].sort(),
    images: [...m.runtime.images.keys()].sort(),
    routes: [...m.proxy.routes.values()],
    inbound: [...m.firewall.inbound.keys()].sort(),
    egress: [...m.firewall.egress.entries()],
  });

describe("foreign-id matrix over the route table", async () => {
  const m = matrixApp();
  const SECRET_A = `planted-a-${crypto.randomUUID()}`;
  const a = await buildObjects(m, m.key, m.provider.id, "matrix-a", SECRET_A);
  const a2 = await buildObjects(m, m.key, m.provider.id, "matrix-a2", `planted-a2-${crypto.randomUUID()}`);
  const B = otherProvider(m, "provider-b@example.com");
  const b = await buildObjects(m, B.key, B.providerId, "matrix-b", `planted-b-${crypto.randomUUID()}`);
  const aTest = m.newKey(m.provider.id, "test", ["*"]);
  await m.idle();
  const routes = routeTable(m.app).filter((r) => isApi(r) && !PUBLIC_ROUTES[routeKey(r)] && !JWT_ONLY_ROUTES[routeKey(r)]);
  const owned = routes.filter((r) => hasOwnedParam(r.path));
  // Routes whose path holds a parent id and a child id: the parent swapped for another owner's.
  const nested = owned.filter((r) => paramKinds(r.path).includes("parent") && paramKinds(r.path).includes("child"));
  const parentsOf = (o: Objects) =>
    Object.fromEntries(
      Object.entries(PARAMS)
        .filter(([, p]) => p.kind === "parent")
        .map(([k, p]) => [k, p.fill(o)]),
    );

  test("every path parameter of every route can be filled (add new ones to PARAMS in test/support/matrix.ts)", () => {
    const missing = routes.flatMap((r) => fillPath(r.path, a).missing.map((p) => `${routeKey(r)}: ${p}`));
    expect(missing).toEqual([]);
    expect(owned.length).toBeGreaterThan(30);
    expect(nested.length).toBeGreaterThan(5);
    expect(
      routes
        .filter((r) => paramSlots(r.path).length && !hasOwnedParam(r.path))
        .map(routeKey)
        .sort(),
    ).toEqual([
      "DELETE /api/v1/nodes/:nodeId",
      "GET /api/v1/github/repos/*",
      "GET /api/v1/github/repos/:owner/:repo/branches",
      "GET /api/v1/nodes/:nodeId",
      "GET /api/v1/templates/:id",
      "POST /api/v1/nodes/:nodeId/activate",
      "POST /api/v1/nodes/:nodeId/drain",
    ]);
  });

  test("another provider's ids, another mode's key, and ids under another parent all answer 404, with no data, and change nothing", async () => {
    const before = dumpDb(m.ctx.db);
    const outsideBefore = outside(m);
    const wrong = [
      ...(await expect404(m, owned, B.key, a, {}, "provider B with A's ids", SECRET_A)),
      ...(await expect404(m, owned, aTest, a, {}, "A's test key with A's live ids", SECRET_A)),
      ...(await expect404(m, nested, B.key, a, parentsOf(b), "provider B's parent with A's child ids", SECRET_A)),
      ...(await expect404(m, nested, m.key, a, parentsOf(a2), "A's other parent with A's child ids", SECRET_A)),
    ];
    await m.idle();
    expect(wrong).toEqual([]);
    const after = dumpDb(m.ctx.db);
    const changed = Object.keys(before).filter((t) => JSON.stringify(before[t]) !== JSON.stringify(after[t]));
    expect(changed).toEqual([]);
    expect(outside(m)).toBe(outsideBefore);
  }, 30_000);

  test("control: the owner's own key reaches every one of those routes with the same ids (so the 404s above mean something)", async () => {
    // Reads first, then changes, then deletes children before parents (deeper paths first, e.g. …/backups/schedule
    // before its tenant): each call still finds its objects.
    const order = (r: RouteRef) => (r.method === "GET" ? 0 : r.method === "DELETE" ? 20 - r.path.split("/").length : 1);
    const wrong: string[] = [];
    for (const r of [...owned].sort((x, y) => order(x) - order(y))) {
      const { url } = fillPath(r.path, a);
      const res = await m.send(m.key, r.method, url, bodyFor(r));
      if ([401, 403, 404].includes(res.status)) wrong.push(`${r.method} ${url} → ${res.status} ${res.text.slice(0, 120)}`);
      await m.idle();
    }
    expect(wrong).toEqual([]);
  }, 30_000);
});

describe("credentials inside URLs", () => {
  test("a repo, registry or webhook URL carrying a password or token is refused naming the field, and nothing is stored", async () => {
    const m = matrixApp();
    const tenant = (repo_url: string) => ({ name: "credrepo", source_type: "github", repo_url });
    const cases: Array<[string, string, unknown, string]> = [
      ["POST", "/api/v1/tenants", tenant("https://user:planted-tok@example.com/a/b.git"), "repo_url"],
      ["POST", "/api/v1/tenants", tenant("https://planted-tok@example.com/a/b.git"), "repo_url"],
      ["POST", "/api/v1/tenants", tenant("ssh://git:planted-tok@example.com/a/b.git"), "repo_url"],
      [
        "POST",
        "/api/v1/tenants",
        {
          name: "credsvc",
          services: [
            {
              name: "web",
              source_type: "github",
              repo_url: "https://x-access-token:planted-tok@example.com/a/b.git",
              is_routable: true,
            },
          ],
        },
        "services[0].repo_url",
      ],
      [
        "POST",
        "/api/v1/registries",
        { name: "r", registry_url: "http://u:planted-tok@127.0.0.1:9", username: "u", password: "p" },
        "registry_url",
      ],
      ["POST", "/api/v1/webhooks", { url: "http://u:planted-tok@127.0.0.1:9/h", events: ["tenant.ready"] }, "url"],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await m.send(m.key, method, path, body);
      expect([JSON.stringify(body), r.status, r.json?.error?.details?.field]).toEqual([JSON.stringify(body), 400, field]);
      expect(r.text).not.toContain("planted-tok");
    }
    const rows = dumpDb(m.ctx.db);
    expect(JSON.stringify(rows)).not.toContain("planted-tok");
    // An ssh user name is no secret, and stays allowed.
    expect((await m.send(m.key, "POST", "/api/v1/tenants", tenant("ssh://git@example.com/a/b.git"))).status).toBe(202);
    await m.idle();
  });
});

describe("images built for one provider", () => {
  test("another provider cannot run (or, by deleting its tenant, remove) them by naming their tag as its image_url", async () => {
    const m = matrixApp();
    const a = await m.send(m.key, "POST", "/api/v1/tenants", {
      name: "builder-a",
      source_type: "github",
      repo_url: "https://example.com/a/app.git",
    });
    await m.idle();
    const image: string = (await m.send(m.key, "GET", `/api/v1/tenants/${a.json.data.id}/deployments`)).json.data[0].image;
    expect(image).toMatch(/^staxa\/builder-a-web:/);
    const B = otherProvider(m, "image-thief@example.com");
    for (const ref of [image, "staxa/builder-a-web", `docker.io/${image}`]) {
      const r = await m.send(B.key, "POST", "/api/v1/tenants", {
        name: "thief",
        source_type: "image",
        image_url: ref,
        app_port: 3000,
      });
      expect([ref, r.status, r.json?.error?.details?.field]).toEqual([ref, 400, "image_url"]);
    }
    await m.idle();
    expect(await m.runtime.findImage(image)).toBeDefined();
  });
});

describe("env values in what the appliance records", () => {
  test("an app that prints its env and crashes: the failure event's log tail, the store and every answer hold no env value", async () => {
    const m = matrixApp();
    const secret = `planted-crash-${crypto.randomUUID()}`;
    const dbUrl = `postgres://u:${secret}-pw@db/x`;
    // Typical of a crash: the app dumps its env, or an error names its connection string.
    m.runtime.behaviour = (spec) => ({
      running: false,
      exitCode: 1,
      logs: [...Object.entries(spec.env).map(([k, v]) => `${k}=${v}`), `Error: connect ECONNREFUSED ${spec.env.DATABASE_URL}`],
    });
    const made = await m.send(m.key, "POST", "/api/v1/tenants", {
      name: "crasher",
      source_type: "image",
      image_url: "example/app:1",
      app_port: 3000,
      env: { API_TOKEN: secret, DATABASE_URL: dbUrl },
    });
    expect(made.status).toBe(202);
    await m.idle();
    const events = m.ctx.bus.recent(made.json.data.id, 1000);
    const failed = events.find((e) => e.stage === "error");
    expect(failed).toBeDefined();
    expect(JSON.stringify(failed)).toContain("ECONNREFUSED"); // the tail is still there to diagnose the crash
    const answers = [
      made.text,
      ...(await Promise.all(
        [
          `/api/v1/tenants/${made.json.data.id}`,
          `/api/v1/tenants/${made.json.data.id}/deployments`,
          `/api/v1/tenants/${made.json.data.id}/env`,
        ].map(async (p) => (await m.send(m.key, "GET", p)).text),
      )),
    ];
    const where = { events: JSON.stringify(events), store: JSON.stringify(dumpDb(m.ctx.db)), answers: answers.join("\n") };
    expect(
      Object.entries(where)
        .filter(([, text]) => text.includes(secret))
        .map(([k]) => k),
    ).toEqual([]);
  });
});

describe("API keys", () => {
  const unauthorized = async (m: MatrixApp, key: string) => {
    const r = await m.send(key, "GET", "/api/v1/tenants");
    const { request_id, ...details } = r.json?.error?.details ?? {};
    expect(request_id).toMatch(/^req_/);
    return { status: r.status, code: r.json?.error?.code, message: r.json?.error?.message, details };
  };

  test("unknown, malformed, bad-checksum, deleted and expired keys all get the same 401 body", async () => {
    let clock = new Date("2030-01-01T00:00:00Z");
    const m = matrixApp();
    m.deps.now = () => clock;
    const good = generateKey("live");
    const badChecksum = good.slice(0, -1) + (good.endsWith("a") ? "b" : "a");
    const created = await m.send(m.key, "POST", "/api/v1/api-keys", { name: "to delete" });
    expect(created.status).toBe(201);
    expect((await m.send(created.json.data.key, "GET", "/api/v1/tenants")).status).toBe(200);
    expect((await m.send(m.key, "DELETE", `/api/v1/api-keys/${created.json.data.id}`)).status).toBe(204);
    const expiring = await m.send(m.key, "POST", "/api/v1/api-keys", { name: "expiring", expires_at: "2030-01-01T01:00:00Z" });
    expect((await m.send(expiring.json.data.key, "GET", "/api/v1/tenants")).status).toBe(200);
    clock = new Date("2030-01-01T01:00:01Z");
    const pastExpiry = createKey(m.ctx.db, {
      providerId: m.provider.id,
      name: "old",
      mode: "live",
      scopes: ["*"],
      expiresAt: "2029-01-01T00:00:00Z",
    }).raw;
    const cases = {
      unknown: good,
      malformed: "sk_live_short",
      "unknown mode": good.replace("sk_live_", "sk_prod_"),
      "bad checksum": badChecksum,
      deleted: created.json.data.key,
      "expired while cached": expiring.json.data.key,
      "expired long ago": pastExpiry,
    };
    const answers = await Promise.all(Object.entries(cases).map(async ([k, v]) => [k, await unauthorized(m, v)] as const));
    const first = answers[0][1];
    expect(first.status).toBe(401);
    expect(first.code).toBe("unauthorized");
    for (const [k, ans] of answers) expect([k, ans]).toEqual([k, first]);
    expect((await m.send(m.key, "GET", "/api/v1/tenants")).status).toBe(200); // the clock moved, the good key still works
  });

  test("a key deleted through the API is refused on the very next request, even one that deletes itself", async () => {
    const m = matrixApp();
    const made = (await m.send(m.key, "POST", "/api/v1/api-keys", { name: "self", scopes: ["keys:write"] })).json.data;
    expect((await m.send(made.key, "GET", "/api/v1/api-keys")).status).toBe(200);
    expect((await m.send(made.key, "DELETE", `/api/v1/api-keys/${made.id}`)).status).toBe(204);
    expect((await m.send(made.key, "GET", "/api/v1/api-keys")).status).toBe(401);
  });

  test("the store holds only the SHA-256 hash: the raw key is in no column of any table", async () => {
    const m = matrixApp();
    const made = (await m.send(m.key, "POST", "/api/v1/api-keys", { name: "scan me" })).json.data;
    const raw: string = made.key;
    const row = m.ctx.db
      .query<{ hash: string; prefix: string }, [string]>("SELECT hash, prefix FROM api_keys WHERE id = ?")
      .get(made.id)!;
    expect(row.hash).toBe(new Bun.CryptoHasher("sha256").update(raw).digest("hex"));
    expect(row.hash).toBe(hashKey(raw));
    expect(raw.startsWith(row.prefix)).toBe(true);
    const secretPart = raw.slice(row.prefix.length);
    const hits: string[] = [];
    const dump = dumpDb(m.ctx.db);
    for (const [table, rows] of Object.entries(dump)) {
      for (const r of rows as string[]) if (r.includes(raw) || r.includes(secretPart)) hits.push(table);
    }
    expect(hits).toEqual([]);
    expect(JSON.stringify(dump)).toContain(row.hash); // the scan reads the table that holds it
    expect((await m.send(m.key, "GET", "/api/v1/api-keys")).text).not.toContain(secretPart);
    const idx = m.ctx.db
      .query<{ sql: string }, []>("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'api_keys'")
      .all();
    expect(
      idx.some((i) => /\(\s*hash\s*\)/.test(i.sql ?? "")) ||
        m.ctx.db.query("SELECT 1 FROM sqlite_master WHERE tbl_name = 'api_keys' AND sql LIKE '%hash%UNIQUE%'").get() !== null,
    ).toBe(true);
  });

  test("keys carry a checksum: every one-character change is recognised offline, before any store read", () => {
    const throwingDb = {
      query() {
        throw new Error("the store was read");
      },
    } as unknown as Db;
    const over = { db: throwingDb, keys: new KeyCache() };
    for (let n = 0; n < 20; n++) {
      const raw = generateKey(n % 2 ? "live" : "test");
      expect(raw).toMatch(/^sk_(live|test)_[0-9A-Za-z]{36}$/);
      expect(isWellFormedKey(raw)).toBe(true);
      for (let i = 8; i < raw.length; i++) {
        const swapped = raw[i] === "0" ? "1" : "0";
        const changed = raw.slice(0, i) + swapped + raw.slice(i + 1);
        expect([changed, isWellFormedKey(changed)]).toEqual([changed, false]);
        expect(() => authenticateKey(over, changed, new Date())).toThrow(Unauthorized);
      }
    }
    // A well-formed unknown key does reach the store (so the check above proves the store was skipped).
    expect(() => authenticateKey(over, generateKey("live"), new Date())).toThrow("the store was read");
  });
});
