// The signed push webhook and commit statuses over the fakes: signatures, matching repo/branch/installation,
// the clone token reaching git (and nothing else), pending/success/failure statuses that never fail a deploy.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeGitHub } from "../../support/fake-github.ts";
import { fakeApp } from "../../support/fakes.ts";
import { signGitHubPayload, verifySignature } from "../../../src/core/deploy/github-push.ts";
import { startGitHubStatusReporter } from "../../../src/core/github/status.ts";

const dir = mkdtempSync(join(tmpdir(), "staxa-unit-ghwh-"));
const gh = startFakeGitHub(dir);
const SECRET = "whsec-unit-webhook";
const HEAD = "3333333333333333333333333333333333333333";
const PUSHED = "4444444444444444444444444444444444444444";
gh.installations.set(4242, {
  login: "acme-org",
  repos: [
    {
      owner: "acme-org",
      name: "webapp",
      private: true,
      default_branch: "main",
      language: "TypeScript",
      branches: () => ({ main: HEAD, dev: HEAD }),
    },
  ],
});
afterAll(() => {
  gh.stop();
  rmSync(dir, { recursive: true, force: true });
});

const env = {
  STAXA_GITHUB_API_URL: gh.url,
  STAXA_GITHUB_APP_ID: gh.appId,
  STAXA_GITHUB_PRIVATE_KEY_FILE: gh.privateKeyFile,
  STAXA_GITHUB_WEBHOOK_SECRET: SECRET,
  STAXA_GITHUB_WEB_URL: "https://github.com",
};
const push = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    ref: "refs/heads/main",
    before: HEAD,
    after: PUSHED,
    deleted: false,
    repository: { id: 1, full_name: "acme-org/webapp", clone_url: "https://github.com/acme-org/webapp.git", private: true },
    installation: { id: 4242 },
    pusher: { name: "dev" },
    ...over,
  });

async function setup() {
  const a = await fakeApp(env);
  expect((await a.call("POST", "/api/v1/github/installation", { installation_id: 4242 })).status).toBe(200);
  const t = await a.call("POST", "/api/v1/tenants", {
    name: "acme-web",
    source_type: "github",
    repo_url: "https://github.com/acme-org/webapp",
    branch: "main",
  });
  expect(t.status).toBe(202);
  await a.idle();
  const hook = async (body: string, headers: Record<string, string>) => {
    const res = await a.app.handle(
      new Request("http://localhost/api/v1/github/webhook", {
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...headers },
      }),
    );
    return { status: res.status, json: await res.json() };
  };
  const deps = () =>
    a.ctx.db.query("SELECT id, trigger, requested_sha, status FROM deployments ORDER BY created_at").all() as Array<{
      id: string;
      trigger: string;
      requested_sha: string | null;
      status: string;
    }>;
  return { a, tenantId: t.json.data.id as string, hook, deps };
}

describe("signature", () => {
  test("verifySignature accepts GitHub's sha256= form and refuses missing, malformed and wrong ones", () => {
    const body = '{"zen":"Keep it logically awesome."}';
    expect(() => verifySignature(SECRET, body, signGitHubPayload(SECRET, body))).not.toThrow();
    for (const sig of [
      null,
      "",
      "sha1=abc",
      "sha256=" + "0".repeat(64),
      signGitHubPayload("other", body),
      signGitHubPayload(SECRET, body + " "),
    ]) {
      expect(() => verifySignature(SECRET, body, sig)).toThrow();
    }
  });
});

describe("POST /github/webhook", () => {
  test("a signed push to the tenant's repo and branch deploys `after`, cloning with an installation token", async () => {
    const { a, hook, deps } = await setup();
    const body = push();
    const r = await hook(body, { "x-github-event": "push", "x-hub-signature-256": signGitHubPayload(SECRET, body) });
    expect(r.status).toBe(202);
    expect(r.json.data.status).toBe("deployed");
    expect(r.json.data.deployments).toHaveLength(1);
    await a.idle();
    const last = deps().at(-1)!;
    expect(last).toMatchObject({ trigger: "push", requested_sha: PUSHED, status: "succeeded" });
    const clone = a.git.clones.at(-1)!;
    expect(clone.commitSha).toBe(PUSHED);
    expect(clone.repoUrl).toBe("https://github.com/acme-org/webapp");
    expect(gh.isValidToken(clone.token!)).toBe(true);
    // The token reached git only: not the events, not the build log, not the deployment rows.
    const stored =
      JSON.stringify(a.ctx.db.query("SELECT * FROM events").all()) +
      JSON.stringify(a.ctx.db.query("SELECT * FROM deployments").all());
    expect(stored).not.toContain(clone.token!);
  });

  test("unsigned, wrongly signed or mis-signed pushes → 401 and no deployment", async () => {
    const { hook, deps } = await setup();
    const n = deps().length;
    const body = push();
    for (const headers of <Array<Record<string, string>>>[
      { "x-github-event": "push" },
      { "x-github-event": "push", "x-hub-signature-256": signGitHubPayload("wrong-secret", body) },
      { "x-github-event": "push", "x-hub-signature-256": "sha256=deadbeef" },
      { "x-github-event": "push", "x-hub-signature-256": signGitHubPayload(SECRET, push({ after: HEAD })) },
    ]) {
      const r = await hook(body, headers);
      expect(r.status).toBe(401);
      expect(r.json.error.code).toBe("unauthorized");
    }
    expect(deps().length).toBe(n);
  });

  test("ping → 200; other events → 202 ignored; other branch, other installation, deleted branch → 202 ignored, nothing deployed", async () => {
    const { hook, deps } = await setup();
    const n = deps().length;
    const send = (event: string, body: string) =>
      hook(body, { "x-github-event": event, "x-hub-signature-256": signGitHubPayload(SECRET, body) });
    expect((await send("ping", '{"zen":"x","hook_id":1}')).status).toBe(200);
    for (const [event, body] of [
      ["issues", '{"action":"opened"}'],
      ["push", push({ ref: "refs/heads/dev" })],
      ["push", push({ ref: "refs/tags/v1" })],
      ["push", push({ installation: { id: 9999 } })],
      ["push", push({ repository: { full_name: "acme-org/other" } })],
      ["push", push({ deleted: true, after: "0".repeat(40) })],
    ] as const) {
      const r = await send(event, body);
      expect([event, r.status, r.json.data.status]).toEqual([event, 202, "ignored"]);
    }
    expect(deps().length).toBe(n);
  });

  test("a signed push with a bad commit id → 400, nothing deployed", async () => {
    const { hook, deps } = await setup();
    const n = deps().length;
    const body = push({ after: "--upload-pack=touch /tmp/x" });
    const r = await hook(body, { "x-github-event": "push", "x-hub-signature-256": signGitHubPayload(SECRET, body) });
    expect(r.status).toBe(400);
    expect(deps().length).toBe(n);
  });
});

describe("commit statuses", () => {
  const waitFor = async (fn: () => boolean) => {
    for (let i = 0; i < 100 && !fn(); i++) await Bun.sleep(10);
    expect(fn()).toBe(true);
  };

  test("pending then success on the deployed commit, linking the tenant, context staxa", async () => {
    const { a, hook } = await setup();
    const stop = startGitHubStatusReporter(a.ctx);
    const before = gh.statuses.length;
    const body = push();
    await hook(body, { "x-github-event": "push", "x-hub-signature-256": signGitHubPayload(SECRET, body) });
    await a.idle();
    await waitFor(() => gh.statuses.length >= before + 2);
    const mine = gh.statuses.slice(before);
    expect(mine.map((s) => [s.repo, s.sha, s.body.state])).toEqual([
      ["acme-org/webapp", PUSHED, "pending"],
      ["acme-org/webapp", PUSHED, "success"],
    ]);
    expect(mine[1]!.body).toMatchObject({ target_url: "https://acme-web.staxa.test", context: "staxa" });
    stop();
  });

  test("a failed build reports failure on the branch head it started from; a GitHub that refuses statuses fails no deploy", async () => {
    const { a, tenantId } = await setup();
    const stop = startGitHubStatusReporter(a.ctx);
    const before = gh.statuses.length;
    a.git.error = new Error("clone exploded");
    await a.call("POST", `/api/v1/tenants/${tenantId}/deployments`, {});
    await a.idle();
    await waitFor(() => gh.statuses.length >= before + 2);
    expect(gh.statuses.slice(before).map((s) => [s.sha, s.body.state])).toEqual([
      [HEAD, "pending"],
      [HEAD, "failure"],
    ]);
    a.git.error = undefined;
    gh.installations.get(4242)!.repos[0]!.name = "renamed"; // statuses for acme-org/webapp now 404
    const d = await a.call("POST", `/api/v1/tenants/${tenantId}/deployments`, {});
    await a.idle();
    expect((await a.call("GET", `/api/v1/tenants/${tenantId}/deployments/${d.json.data.id}`)).json.data.status).toBe("succeeded");
    gh.installations.get(4242)!.repos[0]!.name = "webapp";
    stop();
  });
});
