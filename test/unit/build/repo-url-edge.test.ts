// The API refuses a repo URL by the same rules as the clone, naming the field it came from.
import { describe, expect, test } from "bun:test";
import { repoUrl } from "../../../src/core/input.ts";
import { validateRepoUrl } from "../../../src/build/git-input.ts";
import { Invalid } from "../../../src/lib/errors.ts";

const refused = (v: string, opts = { allowFileRepos: false, allowPrivateTargets: false }, field?: string) => {
  try {
    repoUrl(v, opts, field);
  } catch (e) {
    return e as Invalid;
  }
  throw new Error(`accepted ${v}`);
};

describe("repo_url at the edge", () => {
  test.each([
    "https://example.com/acme/app;touch",
    "https://example.com/acme/$(id)",
    "http://example.com/acme/app.git",
    "ssh://-oProxyCommand=x/a",
    "ext::sh -c id",
    "https://user:tok@example.com/a.git",
    "file:///tmp/repo",
  ])("%s is refused here as the clone would refuse it", (v) => {
    expect(refused(v)).toBeInstanceOf(Invalid);
    expect(() => validateRepoUrl(v, { allowFile: false })).toThrow();
  });

  test("the error names the field the URL came from", () => {
    const e = refused("ext::sh -c id", { allowFileRepos: false, allowPrivateTargets: false }, "services[1].repo_url");
    expect(e.details.field).toBe("services[1].repo_url");
    expect(e.message.startsWith("services[1].repo_url")).toBe(true);
  });

  test("good URLs pass unchanged", () => {
    for (const v of ["https://github.com/acme/app.git", "ssh://git@example.com/acme/app.git"])
      expect(repoUrl(v, { allowFileRepos: false, allowPrivateTargets: false })).toBe(v);
    expect(repoUrl("file:///tmp/repo", { allowFileRepos: true, allowPrivateTargets: false })).toBe("file:///tmp/repo");
  });
});
