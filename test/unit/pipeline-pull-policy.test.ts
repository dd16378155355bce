// Images from a named registry are always pulled, so the registry authorizes each provider (no cross-provider cache use).
import { describe, expect, test } from "bun:test";
import { namesRegistry } from "../../src/core/pipeline.ts";

describe("namesRegistry", () => {
  test.each([
    ["staxa-test/busybox:latest", false],
    ["nginx", false],
    ["library/nginx:1.25", false],
    ["docker.io/library/nginx", false],
    ["registry.example.com/acme/app:v1", true],
    ["127.0.0.1:5000/acme/app", true],
    ["localhost/acme/app", true],
    ["ghcr.io/acme/app@sha256:abc", true],
  ])("%s → %p", (ref, expected) => {
    expect(namesRegistry(ref)).toBe(expected);
  });
});
