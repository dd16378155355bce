// One image-reference module: which registry a reference names, Docker Hub under each of its names, own builds, base names.
import { describe, expect, test } from "bun:test";
import {
  IMAGE_REF_RE,
  imageBaseName,
  isOwnBuild,
  namesRegistry,
  parseImageRef,
  registryHost,
  registryHostName,
} from "../../../src/lib/image-ref.ts";
import { credentialHost } from "../../../src/core/registries/registries.ts";
import { apiBase } from "../../../src/core/registries/client.ts";

describe("parseImageRef", () => {
  test.each([
    ["nginx", { host: "docker.io", path: "nginx", tag: undefined, digest: undefined }],
    ["library/nginx:1.25", { host: "docker.io", path: "library/nginx", tag: "1.25", digest: undefined }],
    ["Index.Docker.io/acme/app", { host: "docker.io", path: "acme/app", tag: undefined, digest: undefined }],
    ["registry.hub.docker.com/acme/app:2", { host: "docker.io", path: "acme/app", tag: "2", digest: undefined }],
    [
      "registry.example.com:5000/team/app:v1",
      { host: "registry.example.com:5000", path: "team/app", tag: "v1", digest: undefined },
    ],
    ["localhost/app", { host: "localhost", path: "app", tag: undefined, digest: undefined }],
    ["Registry/app", { host: "registry", path: "app", tag: undefined, digest: undefined }],
    [
      `ghcr.io/acme/app@sha256:${"a".repeat(64)}`,
      { host: "ghcr.io", path: "acme/app", tag: undefined, digest: `sha256:${"a".repeat(64)}` },
    ],
  ])("%s", (ref, want) => {
    expect(parseImageRef(ref)).toEqual(want);
  });
});

describe("one answer to 'which registry?'", () => {
  test.each([
    ["nginx", "docker.io", false],
    ["docker.io/library/nginx", "docker.io", false],
    ["registry-1.docker.io/acme/app", "docker.io", false],
    ["registry.hub.docker.com/acme/app", "docker.io", false],
    ["127.0.0.1:5000/acme/app", "127.0.0.1:5000", true],
    ["localhost/acme/app", "localhost", true],
  ])("%s → %s", (ref, host, named) => {
    expect([registryHost(ref), namesRegistry(ref)]).toEqual([host, named]);
  });

  test("a saved Docker Hub URL, under any of its names, matches Docker Hub images and is served by the v2 API", () => {
    for (const url of [
      "https://index.docker.io/v1/",
      "https://registry-1.docker.io",
      "https://registry.hub.docker.com/",
      "https://Docker.io",
    ]) {
      expect([credentialHost(url), apiBase(url)]).toEqual(["docker.io", "https://registry-1.docker.io"]);
    }
    expect(registryHostName("REGISTRY.example.com:5000")).toBe("registry.example.com:5000");
  });
});

describe("own builds and base names", () => {
  test.each([
    ["staxa/app:1", true],
    ["docker.io/staxa/app", true],
    ["index.docker.io/staxa/app", true],
    ["registry.hub.docker.com/staxa/app", true],
    ["localhost/staxa/app", false],
    ["acme/staxa", false],
  ])("isOwnBuild(%s) → %p", (ref, own) => {
    expect(isOwnBuild(ref)).toBe(own);
  });

  test("imageBaseName drops registry, namespace, tag and digest", () => {
    expect(imageBaseName(`localhost:5000/a/b/MySQL:8@sha256:${"b".repeat(64)}`)).toBe("mysql");
    expect(imageBaseName("postgres:16")).toBe("postgres");
  });

  test("the reference grammar", () => {
    for (const ok of ["nginx", "a/b:c", "host:5000/a_b/c-d:1.0", `x@sha256:${"c".repeat(64)}`])
      expect(IMAGE_REF_RE.test(ok)).toBe(true);
    for (const bad of ["UPPER", "a//b", "a/b:", "-x", "a/../b", "a@sha256:zz"]) expect(IMAGE_REF_RE.test(bad)).toBe(false);
  });
});
