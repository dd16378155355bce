// The template catalog: the required templates exist with the reference's fields; list and get as the reference.
import { describe, expect, test } from "bun:test";
import { testApp } from "../../support/ctx.ts";
import { listTemplates } from "../../../src/core/tenants/templates.ts";
import { createKey } from "../../../src/core/identity/keys.ts";

describe("catalog", () => {
  test("holds the required frameworks and services, each complete", () => {
    const ts = listTemplates();
    const frameworks = ts.map((t) => t.framework);
    for (const f of ["nextjs", "express", "vite", "static", "bun", "python", "go", "postgres", "redis"])
      expect(frameworks).toContain(f);
    expect(new Set(ts.map((t) => t.id)).size).toBe(ts.length);
    for (const t of ts) {
      expect(t.id).toMatch(/^tpl_[a-z0-9_]+$/);
      expect(t.name.length).toBeGreaterThan(1);
      expect(t.description.length).toBeGreaterThan(5);
      expect(Boolean(t.repo_url) !== Boolean(t.image)).toBe(true);
      if (t.repo_url) expect(t.repo_url).toMatch(/^https:\/\//);
      expect(typeof t.default_env).toBe("object");
      for (const v of Object.values(t.default_env)) expect(typeof v).toBe("string");
      expect(Number.isInteger(t.default_port) && t.default_port > 0 && t.default_port < 65536).toBe(true);
    }
    for (const id of ["tpl_postgres", "tpl_redis"]) {
      const t = ts.find((x) => x.id === id)!;
      expect(t.image).toBeTruthy();
      expect(t.volumes?.[0]?.mount_path).toMatch(/^\//);
    }
  });
});

describe("routes", () => {
  test("GET /templates lists summaries as the reference shows", async () => {
    const { call } = testApp();
    const r = await call("GET", "/api/v1/templates");
    expect(r.status).toBe(200);
    expect(r.json.data[0]).toEqual({
      id: "tpl_nextjs",
      name: "Next.js Starter",
      framework: "nextjs",
      description: "Production-ready Next.js application",
      repo_url: "https://github.com/staxa/template-nextjs",
    });
    expect(r.json.data.find((t: any) => t.id === "tpl_redis")).toMatchObject({ image: "redis:7-alpine" });
    expect(r.json.data.length).toBe(listTemplates().length);
  });

  test("GET /templates/{id} shows details; unknown → 404", async () => {
    const { call } = testApp();
    const r = await call("GET", "/api/v1/templates/tpl_nextjs");
    expect(r.status).toBe(200);
    expect(r.json.data).toEqual({
      id: "tpl_nextjs",
      name: "Next.js Starter",
      framework: "nextjs",
      description: "Production-ready Next.js application",
      repo_url: "https://github.com/staxa/template-nextjs",
      default_env: { NODE_ENV: "production" },
      default_port: 3000,
    });
    const missing = await call("GET", "/api/v1/templates/tpl_cobol");
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe("not_found");
  });

  test("needs templates:read", async () => {
    const { call, ctx, provider } = testApp();
    const k = createKey(ctx.db, {
      providerId: provider.id,
      name: "k",
      mode: "live",
      scopes: ["tenants:read"],
      expiresAt: null,
    }).raw;
    expect((await call("GET", "/api/v1/templates", undefined, { authorization: `Bearer ${k}` })).status).toBe(403);
    const ok = createKey(ctx.db, {
      providerId: provider.id,
      name: "k2",
      mode: "test",
      scopes: ["templates:read"],
      expiresAt: null,
    }).raw;
    expect((await call("GET", "/api/v1/templates", undefined, { authorization: `Bearer ${ok}` })).status).toBe(200);
  });
});
