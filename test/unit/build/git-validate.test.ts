// Table-driven: every git payload of SECURITY.md is refused with a 400 naming the field; good input passes.
import { describe, expect, test } from "bun:test";
import { validateBranch, validateCommitSha, validateRepoUrl, cloneArgs, gitEnv, authHeaderFor } from "../../../src/build/git.ts";
import { redactLine } from "../../../src/build/git-run.ts";
import { isPrivateAddress } from "../../../src/build/git-host.ts";
import { Invalid } from "../../../src/lib/errors.ts";

function invalidField(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof Invalid) return e.details.field as string;
    throw e;
  }
  return undefined;
}

const BAD_URLS = [
  "ext::sh -c touch% /tmp/p",
  "ext::sh",
  "fd::17",
  "fd::3,4/x",
  "-u./payload",
  "--upload-pack=touch /tmp/p",
  "--upload-pack=touch",
  "ssh://-oProxyCommand=touch /tmp/p/x",
  "ssh://-oProxyCommand=x/repo",
  "ssh://git@-oProxyCommand=x/repo",
  "git@-oProxyCommand=x:repo",
  "git@host:-u./payload",
  "https://example.com/a%0arepo",
  "https://example.com/a%0Drepo",
  "https://example.com/a%00",
  "https://example.com/a\nb",
  "https://example.com/a b",
  "https://example.com/a\tb",
  "https://example.com/$(id)",
  "https://example.com/`id`",
  "https://example.com/a;id",
  "https://example.com/a|id",
  "file:///tmp/repo",
  "/tmp/repo",
  "./repo",
  "http://example.com/repo.git",
  "git://example.com/repo.git",
  "ftp://example.com/repo.git",
  "https://user:pass@example.com/repo.git",
  "https://token@example.com/repo.git",
  "ssh://git:pw@example.com/repo.git",
  "https://",
  "https://exa_mple.com/repo",
  "https://example.com:99999/repo",
  "https://example.com/-oops",
  "",
];

const GOOD_URLS = [
  "https://github.com/acme/app.git",
  "https://github.com/acme/app",
  "https://git.example.com:8443/group/sub/app.git",
  "ssh://git@github.com/acme/app.git",
  "ssh://git@github.com:2222/acme/app.git",
  "https://[2001:db8::1]/acme/app.git",
];

describe("validateRepoUrl", () => {
  for (const url of BAD_URLS) {
    test(`refuses ${JSON.stringify(url)}`, () => {
      expect(invalidField(() => validateRepoUrl(url))).toBe("repo_url");
    });
  }
  for (const url of GOOD_URLS) {
    test(`accepts ${url}`, () => {
      expect(validateRepoUrl(url).url).toBe(url);
    });
  }
  test("file:// only when allowed", () => {
    expect(validateRepoUrl("file:///tmp/x/repo.git", { allowFile: true })).toEqual({
      url: "file:///tmp/x/repo.git",
      scheme: "file",
      host: "",
    });
    expect(invalidField(() => validateRepoUrl("file:///tmp/x/repo.git", { allowFile: false }))).toBe("repo_url");
    expect(invalidField(() => validateRepoUrl("file://host/tmp/x", { allowFile: true }))).toBe("repo_url");
  });
  test("http:// only when allowed", () => {
    expect(validateRepoUrl("http://10.0.0.5:3000/a.git", { allowHttp: true }).scheme).toBe("http");
  });
  test("ext:: is refused even when file repos are allowed", () => {
    expect(invalidField(() => validateRepoUrl("ext::sh -c id", { allowFile: true, allowHttp: true }))).toBe("repo_url");
  });
  test("errors never echo the credentials", () => {
    try {
      validateRepoUrl("https://alice:hunter2secret@example.com/repo.git");
      throw new Error("accepted");
    } catch (e) {
      expect((e as Error).message).not.toContain("hunter2secret");
      expect(JSON.stringify((e as Invalid).details)).not.toContain("hunter2secret");
    }
  });
  test("the host is returned lower-case, without brackets", () => {
    expect(validateRepoUrl("https://GitHub.com/a/b").host).toBe("github.com");
    expect(validateRepoUrl("https://[::1]/a").host).toBe("::1");
    expect(validateRepoUrl("ssh://git@Example.org/a/b").host).toBe("example.org");
  });

  test("the scp-like ssh form (git@host:path) is refused naming repo_url, pointing at the https URL", () => {
    for (const url of ["git@github.com:acme/app.git", "git@Example.org:a/b", "deploy@git.example.com:group/app"]) {
      expect(invalidField(() => validateRepoUrl(url))).toBe("repo_url");
      expect(() => validateRepoUrl(url)).toThrow(/scp-like.*https:\/\//);
    }
  });
});

const BAD_BRANCHES = [
  "--output=/tmp/p",
  "-btest",
  "-",
  "main; touch /tmp/p",
  "main;id",
  "$(id)",
  "`id`",
  "a`b",
  "main\n",
  "ma\nin",
  "a@{1}",
  "@",
  "a..b",
  "../x",
  "a b",
  "a\tb",
  "a|b",
  "a&b",
  "a(b)",
  "a<b>",
  "a\\b",
  "a'b",
  'a"b',
  "a~1",
  "a^",
  "a:b",
  "a?",
  "a*",
  "a[b",
  "/main",
  "main/",
  "a//b",
  "main.",
  "x.lock",
  "a/.hidden",
  ".main",
  "a/-b",
  "",
  "x".repeat(256),
  "\u0000",
];
const GOOD_BRANCHES = [
  "main",
  "feature/new-ui",
  "release-1.2.3",
  "v1.0",
  "user@fix",
  "a+b",
  "x".repeat(255),
  "dependabot/npm_and_yarn/lodash-4.17.21",
];

describe("validateBranch", () => {
  for (const b of BAD_BRANCHES) {
    test(`refuses ${JSON.stringify(b.slice(0, 40))}`, () => expect(invalidField(() => validateBranch(b))).toBe("branch"));
  }
  for (const b of GOOD_BRANCHES) {
    test(`accepts ${b.slice(0, 40)}`, () => expect(validateBranch(b)).toBe(b));
  }
  test("non-strings are refused", () => expect(invalidField(() => validateBranch(42))).toBe("branch"));
});

describe("validateCommitSha", () => {
  for (const s of ["", "xyz", "--output=x", "abc123;id", "abc12", "a".repeat(65), "HEAD", "main", "abcdef1 "]) {
    test(`refuses ${JSON.stringify(s)}`, () => expect(invalidField(() => validateCommitSha(s))).toBe("commit_sha"));
  }
  test("accepts and lower-cases hex ids", () => {
    expect(validateCommitSha("ABCDEF1")).toBe("abcdef1");
    expect(validateCommitSha("0123456789abcdef0123456789abcdef01234567")).toBe("0123456789abcdef0123456789abcdef01234567");
  });
});

describe("git command and environment", () => {
  test("clone puts -- before the URL and dir", () => {
    const repo = validateRepoUrl("https://github.com/a/b.git");
    expect(cloneArgs(repo, "main", "/tmp/d")).toEqual([
      "clone",
      "--no-recurse-submodules",
      "--single-branch",
      "--branch",
      "main",
      "--depth",
      "50",
      "--",
      "https://github.com/a/b.git",
      "/tmp/d",
    ]);
  });
  test("environment locks protocols and prompts, file only when allowed", () => {
    const env = gitEnv("/tmp/h", false);
    expect(env.GIT_ALLOW_PROTOCOL).toBe("https:ssh");
    expect(gitEnv("/tmp/h", true).GIT_ALLOW_PROTOCOL).toBe("https:ssh:file");
    expect(env).toMatchObject({
      GIT_PROTOCOL_FROM_USER: "0",
      GIT_TERMINAL_PROMPT: "0",
      GIT_CONFIG_NOSYSTEM: "1",
      HOME: "/tmp/h",
    });
    expect(env.GIT_SSH_COMMAND).toContain("BatchMode=yes");
    expect(env.GIT_SSH_COMMAND).toContain("StrictHostKeyChecking=accept-new");
    expect(env.GIT_CONFIG_COUNT).toBeUndefined();
  });
  test("the token goes into an origin-scoped extraHeader in the environment", () => {
    const h = authHeaderFor(validateRepoUrl("https://github.com/a/b.git"), "ghs_abc");
    expect(h.key).toBe("http.https://github.com/.extraHeader");
    expect(h.value).toBe(`Authorization: Basic ${Buffer.from("x-access-token:ghs_abc").toString("base64")}`);
    const env = gitEnv("/tmp/h", false, h);
    expect([env.GIT_CONFIG_COUNT, env.GIT_CONFIG_KEY_0, env.GIT_CONFIG_VALUE_0]).toEqual(["1", h.key, h.value]);
    expect(() => authHeaderFor(validateRepoUrl("https://github.com/a/b.git"), "x\nInjected: 1")).toThrow();
  });
  test("redactLine masks secrets and URL credentials", () => {
    expect(redactLine("fatal: auth ghs_abc failed for https://u:p@h/x", ["ghs_abc"])).toBe(
      "fatal: auth **** failed for https://****@h/x",
    );
  });
  test("private addresses", () => {
    for (const ip of [
      "127.0.0.1",
      "10.1.2.3",
      "169.254.169.254",
      "172.16.0.1",
      "192.168.1.1",
      "::1",
      "fd00::1",
      "fe80::1",
      "0.0.0.0",
      "::ffff:127.0.0.1",
    ]) {
      expect(isPrivateAddress(ip)).toBe(true);
    }
    for (const ip of ["8.8.8.8", "140.82.112.3", "2606:4700::1111"]) expect(isPrivateAddress(ip)).toBe(false);
  });
});
