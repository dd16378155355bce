// Images from a named registry are always pulled, so the registry authorizes each provider (no cross-provider cache use).
import { describe, expect, test } from "bun:test";
import { namesRegistry } from "../../../src/lib/image-ref.ts";
import { mayBePrivate } from "../../../src/core/registries/registries.ts";
import { ensureProvider } from "../../../src/core/identity/accounts.ts";
import * as registries from "../../../src/store/registries.ts";
import { fakeApp } from "../../support/fakes.ts";

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

describe("a cached image that may be private is pulled again for each provider", () => {
  const insertCredential = (a: Awaited<ReturnType<typeof fakeApp>>, providerId: string) => {
    const now = new Date().toISOString();
    registries.insert(a.ctx.db, {
      id: "reg_other",
      provider_id: providerId,
      mode: "live",
      name: "hub",
      registry_url: "https://index.docker.io/v1/",
      username: "other",
      password_enc: a.ctx.box.seal("pw"),
      verified: 1,
      created_at: now,
      updated_at: now,
    } as registries.RegistryRow);
  };

  test("another provider's Docker Hub credential forces a pull; without any credential the cache is used", async () => {
    const a = await fakeApp();
    a.runtime.images.set("acme/private:1", "sha256:cached");
    a.runtime.images.set("sha256:cached", "sha256:cached");
    expect(mayBePrivate(a.ctx, "acme/private:1")).toBe(false);
    const first = await a.call("POST", "/api/v1/tenants", {
      name: "cache-ok",
      source_type: "image",
      image_url: "acme/private:1",
      app_port: 3000,
    });
    expect(first.status).toBe(202);
    await a.idle();
    expect(a.runtime.pulls).toEqual([]); // nobody holds a credential for Docker Hub: a public image, the cache serves

    const other = ensureProvider(a.ctx.db, { email: "other@example.com", name: null }).provider;
    insertCredential(a, other.id);
    expect(mayBePrivate(a.ctx, "acme/private:1")).toBe(true);
    const second = await a.call("POST", "/api/v1/tenants", {
      name: "cache-no",
      source_type: "image",
      image_url: "acme/private:1",
      app_port: 3000,
    });
    expect(second.status).toBe(202);
    await a.idle();
    expect(a.runtime.pulls).toEqual(["acme/private:1"]);
  });
});
