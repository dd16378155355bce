// A git@host:path repo URL is refused at the API (400 naming repo_url), not accepted to fail at build time:
// the server holds no ssh key to clone with (issue 19 point 9).
import { describe, expect, test } from "bun:test";
import { testApp } from "../../support/ctx.ts";

describe("scp-like repo URLs at the API", () => {
  test("POST /tenants with git@host:owner/repo.git is a 400 naming repo_url, pointing at https, and stores nothing", async () => {
    const { call, ctx } = testApp();
    const r = await call("POST", "/api/v1/tenants", {
      name: "scp",
      source_type: "github",
      repo_url: "git@github.com:acme/app.git",
    });
    expect(r.status).toBe(400);
    expect(r.json.error.details.field).toBe("repo_url");
    expect(r.json.error.message).toContain("https://");
    const m = await call("POST", "/api/v1/tenants", {
      name: "scp2",
      services: [{ name: "web", source_type: "github", repo_url: "git@github.com:acme/app.git", port: 3000 }],
    });
    expect(m.status).toBe(400);
    expect(m.json.error.details.field).toBe("services[0].repo_url");
    expect(ctx.db.query("SELECT COUNT(*) AS n FROM tenants").get()).toEqual({ n: 0 });
    expect(ctx.db.query("SELECT COUNT(*) AS n FROM deployments").get()).toEqual({ n: 0 });
  });
});
