// The pure rules of previews as tables: the preview's name, its env with overrides, which pull request payloads are
// read (and which are a 400 naming the field), the settings a PUT makes, and which previews the TTL sweep deletes.
import { describe, expect, test } from "bun:test";
import { previewEnv, previewName } from "../../../src/core/previews/preview-tenant.ts";
import { parsePullRequest } from "../../../src/core/previews/pull-request.ts";
import { DEFAULT_TTL_HOURS, parseSettings, type PreviewSettings } from "../../../src/core/previews/settings.ts";
import { stalePreviews } from "../../../src/core/previews/expiry.ts";
import type { PreviewWithTtl } from "../../../src/store/previews.ts";
import { AppError } from "../../../src/lib/errors.ts";

const SHA = "a".repeat(40);

describe("previewName", () => {
  const cases: Array<[string, number, string]> = [
    ["shop", 7, "shop-pr-7"],
    ["a".repeat(63), 12, `${"a".repeat(57)}-pr-12`],
    // shortening never leaves "--" where the base was cut at a hyphen
    [`${"b".repeat(55)}-cdefgh`, 123, `${"b".repeat(55)}-pr-123`],
  ];
  for (const [base, n, want] of cases)
    test(`${base.slice(0, 12)}… #${n} → ${want.slice(-12)}`, () => {
      expect(previewName(base, n)).toBe(want);
      expect(previewName(base, n).length).toBeLessThanOrEqual(63);
    });
});

describe("previewEnv", () => {
  const env = { A: "1", STRIPE_KEY: "sk_live", B: "2" };
  test("a value replaces, null removes, a new key is added", () => {
    expect(previewEnv(env, { A: "preview", STRIPE_KEY: null, NEW: "x" })).toEqual({ A: "preview", B: "2", NEW: "x" });
  });
  test("onlyPresent (a service's own env): only keys it sets are changed", () => {
    expect(previewEnv({ A: "svc" }, { A: "preview", STRIPE_KEY: null, NEW: "x" }, true)).toEqual({ A: "preview" });
  });
});

const payload = (over: Record<string, any> = {}, pr: Record<string, any> = {}) => ({
  action: "opened",
  number: 5,
  pull_request: {
    number: 5,
    head: { ref: "feature/x", sha: SHA, repo: { full_name: "acme/app" } },
    base: { ref: "main", sha: "b".repeat(40), repo: { full_name: "acme/app" } },
    ...pr,
  },
  repository: { full_name: "acme/app" },
  installation: { id: 42 },
  ...over,
});

describe("parsePullRequest", () => {
  test("reads action, number, base, head, installation; same repo is not a fork", () => {
    expect(parsePullRequest(payload())).toEqual({
      action: "opened",
      number: 5,
      installationId: 42,
      repo: "acme/app",
      baseRef: "main",
      headRepo: "acme/app",
      headRef: "feature/x",
      headSha: SHA,
      fork: false,
    });
  });
  test("a head in another repo is a fork; a deleted fork (head.repo null) too", () => {
    expect(parsePullRequest(payload({}, { head: { ref: "x", sha: SHA, repo: { full_name: "eve/app" } } })).fork).toBe(true);
    const gone = parsePullRequest(payload({}, { head: { ref: "x", sha: SHA, repo: null } }));
    expect([gone.fork, gone.headRepo]).toEqual([true, null]);
  });
  const bad: Array<[string, Record<string, any>, Record<string, any>, string]> = [
    ["no pull_request", { pull_request: undefined }, {}, "pull_request"],
    ["a number that is a string", { number: "5" }, { number: "5" }, "number"],
    ["a short head sha", {}, { head: { ref: "x", sha: "abc", repo: { full_name: "acme/app" } } }, "pull_request.head.sha"],
    [
      "a head ref that is an option",
      {},
      { head: { ref: "--upload-pack=touch /tmp/p", sha: SHA, repo: { full_name: "acme/app" } } },
      "pull_request.head.ref",
    ],
    ["a head ref with '..'", {}, { head: { ref: "a/../b", sha: SHA, repo: { full_name: "acme/app" } } }, "pull_request.head.ref"],
    [
      "a base repo with a path",
      {},
      { base: { ref: "main", repo: { full_name: "acme/../etc" } } },
      "pull_request.base.repo.full_name",
    ],
    [
      "a head repo with a slash too many",
      {},
      { head: { ref: "x", sha: SHA, repo: { full_name: "a/b/c" } } },
      "pull_request.head.repo.full_name",
    ],
  ];
  for (const [what, over, pr, field] of bad)
    test(`${what} → 400 naming ${field}`, () => {
      let err: unknown;
      try {
        parsePullRequest(payload(over, pr));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).details.field).toBe(field);
    });
});

describe("parseSettings", () => {
  const cur: PreviewSettings = { enabled: false, allowForks: false, ttlHours: DEFAULT_TTL_HOURS, envOverrides: { A: "1" } };
  test("given fields replace, the others keep their value", () => {
    expect(parseSettings({ enabled: true }, cur)).toEqual({ ...cur, enabled: true });
    expect(parseSettings({ ttl_hours: 2, env_overrides: { B: null } }, cur)).toEqual({
      ...cur,
      ttlHours: 2,
      envOverrides: { B: null },
    });
  });
  const bad: Array<[Record<string, unknown>, string]> = [
    [{}, "body"],
    [{ enabled: "yes" }, "enabled"],
    [{ allow_forks: 1 }, "allow_forks"],
    [{ ttl_hours: 0 }, "ttl_hours"],
    [{ ttl_hours: 1.5 }, "ttl_hours"],
    [{ ttl_hours: 1e309 }, "ttl_hours"],
    [{ ttl_hours: 2161 }, "ttl_hours"],
    [{ env_overrides: [] }, "env_overrides"],
    [{ env_overrides: { "1BAD": "x" } }, "env_overrides"],
    [{ env_overrides: { LD_PRELOAD: "/x.so" } }, "env_overrides.LD_PRELOAD"],
    [{ env_overrides: { LD_PRELOAD: null } }, "env_overrides.LD_PRELOAD"],
    [{ env_overrides: { A: 1 } }, "env_overrides.A"],
    [{ env_overrides: { A: "a\u0000b" } }, "env_overrides.A"],
  ];
  for (const [body, field] of bad)
    test(`${JSON.stringify(body)} → 400 naming ${field}`, () => {
      expect(() => parseSettings(body, cur)).toThrow();
      try {
        parseSettings(body, cur);
      } catch (e) {
        expect((e as AppError).details.field).toBe(field);
      }
    });
});

describe("stalePreviews", () => {
  const now = new Date("2030-01-10T00:00:00Z");
  const row = (id: string, over: Partial<PreviewWithTtl>): PreviewWithTtl => ({
    tenant_id: id,
    base_tenant_id: "ten_base",
    repo: "acme/app",
    pr_number: 1,
    head_repo: "acme/app",
    head_ref: "x",
    head_sha: SHA,
    comment_id: null,
    created_at: "2030-01-01T00:00:00Z",
    updated_at: "2030-01-09T00:00:00Z",
    status: "ready",
    ttl_hours: 48,
    base_status: "ready",
    ...over,
  });
  test("older than its TTL, base gone or being deleted → stale; fresh or already deleting → kept", () => {
    const rows = [
      row("fresh", {}),
      row("exactly-ttl", { updated_at: "2030-01-08T00:00:00Z" }),
      row("old", { updated_at: "2030-01-01T00:00:00Z" }),
      row("old-but-deleting", { updated_at: "2030-01-01T00:00:00Z", status: "deleting" }),
      row("base-gone", { base_tenant_id: null, ttl_hours: null, base_status: null }),
      row("base-deleting", { base_status: "deleting" }),
    ];
    expect(stalePreviews(rows, now).map((r) => r.tenant_id)).toEqual(["exactly-ttl", "old", "base-gone", "base-deleting"]);
  });
});
