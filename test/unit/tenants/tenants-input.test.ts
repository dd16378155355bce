// Table-driven tests of tenant input validation: each hostile value is refused naming its field.
import { describe, expect, test } from "bun:test";
import * as input from "../../../src/core/input.ts";
import { Invalid } from "../../../src/lib/errors.ts";

const refuses = (fn: () => unknown, field: string) => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Invalid);
    expect((e as Invalid).details.field).toBe(field);
    return;
  }
  throw new Error("accepted");
};

describe("tenant name", () => {
  test.each([
    "-bad",
    "bad-",
    "UPPER",
    "a".repeat(64),
    "a..b",
    "../x",
    "a_b",
    "a b",
    "",
    "api",
    "www",
    "admin",
    "dashboard",
    "staxa",
    "é",
  ])("refuses %p", (v) => refuses(() => input.tenantName(v), "name"));
  test.each(["a", "acme-corp", "a1", "1a", "a".repeat(63)])("accepts %p", (v) => expect(input.tenantName(v)).toBe(v));
  test("refuses non-strings", () => refuses(() => input.tenantName(42), "name"));
});

describe("repo_url", () => {
  const bad = [
    "ext::sh -c id",
    "ext::sh -c touch% /tmp/p",
    "fd::17",
    "--upload-pack=touch /tmp/x",
    "-oProxyCommand=x",
    "-u./payload",
    "ssh://-oProxyCommand=x/y",
    "https://example.com/a b",
    "https://example.com/a\nb",
    "https://example.com/a%0ab",
    "http://example.com/x",
    "file:///tmp/repo",
    "/tmp/repo",
    "git@-oProxyCommand=x:y",
    "",
    "https://",
    "git@github.com:acme/webapp.git", // scp-like ssh: no ssh key here, it would only fail at build time
  ];
  test.each(bad)("refuses %p", (v) =>
    refuses(() => input.repoUrl(v, { allowFileRepos: false, allowPrivateTargets: false }), "repo_url"),
  );
  test.each(["https://github.com/acme/webapp", "https://github.com/acme/webapp.git", "ssh://git@github.com/acme/webapp.git"])(
    "accepts %p",
    (v) => expect(input.repoUrl(v, { allowFileRepos: false, allowPrivateTargets: false })).toBe(v),
  );
  test("file:// only when allowed", () => {
    expect(input.repoUrl("file:///tmp/repo", { allowFileRepos: true, allowPrivateTargets: false })).toBe("file:///tmp/repo");
    refuses(() => input.repoUrl("file:///tmp/re po", { allowFileRepos: true, allowPrivateTargets: false }), "repo_url");
  });
});

describe("branch", () => {
  const bad = [
    "--output=/tmp/x",
    "-btest",
    "main;id",
    "$(id)",
    "`id`",
    "a..b",
    "a@{1}",
    "a b",
    "a\nb",
    "a~1",
    "a^",
    "a:b",
    "a?",
    "a*",
    "a[",
    "a\\b",
    "a|b",
    "a&b",
    ".hidden",
    "x.lock",
    "a/",
    "/a",
    "",
    "a/.b",
    "a/-b",
    "feature/x.lock/y",
    "zweig-ä",
  ];
  test.each(bad)("refuses %p", (v) => refuses(() => input.branch(v), "branch"));
  test.each(["main", "feature/x-1", "release-1.2", "v1.0.0"])("accepts %p", (v) => expect(input.branch(v)).toBe(v));
});

describe("commit_sha", () => {
  test.each(["abc", "xyz1234", "g".repeat(40), "a".repeat(65), "--help"])("refuses %p", (v) =>
    refuses(() => input.commitSha(v), "commit_sha"),
  );
  test.each(["abc1234", "A".repeat(40), "b".repeat(64)])("accepts %p", (v) => expect(input.commitSha(v)).toBe(v.toLowerCase()));
});

describe("image_url", () => {
  const bad = [
    "alpine;id",
    "--help",
    "-alpine",
    "alpine id",
    "alpine|sh",
    "$(id)",
    "alpine`id`",
    "Alpine",
    "alpine:",
    "a\nb",
    "",
  ];
  test.each(bad)("refuses %p", (v) => refuses(() => input.imageRef(v), "image_url"));
  test.each([
    "alpine",
    "nginx:1.27",
    "staxa-test/busybox:latest",
    "registry.example.com:5000/team/app:v1",
    "ghcr.io/a/b@sha256:" + "a".repeat(64),
  ])("accepts %p", (v) => expect(input.imageRef(v)).toBe(v));
});

describe("small fields", () => {
  test.each([0, 65536, -1, 1.5, "80", "80;id"])("app_port refuses %p", (v) => refuses(() => input.port(v), "app_port"));
  test("app_port accepts 1 and 65535", () => expect([input.port(1), input.port(65535)]).toEqual([1, 65535]));
  test.each(["tiny", "", "SMALL"])("resource_size refuses %p", (v) => refuses(() => input.resourceSize(v), "resource_size"));
  test.each(["closed", "", 1])("egress_mode refuses %p", (v) => refuses(() => input.egressMode(v), "egress_mode"));
  test.each(["docker", "", 1])("source_type refuses %p", (v) => refuses(() => input.sourceType(v), "source_type"));
});
