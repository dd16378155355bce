// The cluster registry's pure parts: its settings, where a local image goes in it, the credentials sent as
// X-Registry-Auth, the docker-registry config and the material `staxa registry` creates.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../../src/config.ts";
import { clusterRef, registryAuth } from "../../../src/runtime/swarm-images.ts";
import { LOCAL_IMAGE_LABEL, serviceSpec } from "../../../src/runtime/swarm-spec.ts";
import { containerSpec } from "../../../src/runtime/container-spec.ts";
import { clusterRegistryOf, ensureMaterial, paths, registryYaml } from "../../../src/registry-server/material.ts";

describe("settings", () => {
  test("the registry addresses are host[:port], never URLs; an external one needs its user and password file", () => {
    expect(loadConfig({ STAXA_CLUSTER_REGISTRY_ADDR: "10.0.0.1:5000" }).clusterRegistryAddr).toBe("10.0.0.1:5000");
    expect(loadConfig({}).clusterRegistryAddr).toBe("");
    expect(() => loadConfig({ STAXA_CLUSTER_REGISTRY_ADDR: "https://10.0.0.1:5000" })).toThrow(ConfigError);
    expect(() => loadConfig({ STAXA_CLUSTER_REGISTRY_ADDR: "a b:1" })).toThrow("STAXA_CLUSTER_REGISTRY_ADDR");
    expect(() => loadConfig({ STAXA_CLUSTER_REGISTRY: "reg.example.com" })).toThrow("STAXA_CLUSTER_REGISTRY_USER");
    const c = loadConfig({
      STAXA_CLUSTER_REGISTRY: "Reg.Example.com",
      STAXA_CLUSTER_REGISTRY_USER: "u",
      STAXA_CLUSTER_REGISTRY_PASSWORD_FILE: "/p",
    });
    expect(c.clusterRegistry).toBe("reg.example.com");
  });

  test("no registry configured: none (nodes must hold the images); an external one's password comes from its file", () => {
    const dir = mkdtempSync(join(tmpdir(), "staxa-unit-reg-"));
    try {
      expect(clusterRegistryOf(loadConfig({ STAXA_DATA_DIR: dir }))).toBeUndefined();
      writeFileSync(join(dir, "pw"), "s3cret-pw\n");
      const ext = loadConfig({
        STAXA_CLUSTER_REGISTRY: "reg.example.com:443",
        STAXA_CLUSTER_REGISTRY_USER: "ci",
        STAXA_CLUSTER_REGISTRY_PASSWORD_FILE: join(dir, "pw"),
      });
      expect(clusterRegistryOf(ext)).toEqual({ address: "reg.example.com:443", username: "ci", password: "s3cret-pw" });
      // The built-in one before `staxa registry` made its material: a clear error, never a crash.
      expect(() => clusterRegistryOf(loadConfig({ STAXA_DATA_DIR: dir, STAXA_CLUSTER_REGISTRY_ADDR: "10.0.0.1:5000" }))).toThrow(
        "staxa registry",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("clusterRef", () => {
  const R = "10.215.3.1:5000";
  test("the appliance's builds keep their name under the registry", () => {
    expect(clusterRef(R, "staxa/acme-web:dep_1")).toEqual({ repo: `${R}/staxa/acme-web`, tag: "dep_1", path: "staxa/acme-web" });
  });
  test("Docker Hub names stay short; another registry's host becomes a path component (a port's colon a dash)", () => {
    expect(clusterRef(R, "busybox:1.36")).toMatchObject({ repo: `${R}/busybox`, tag: "1.36" });
    expect(clusterRef(R, "busybox")).toMatchObject({ repo: `${R}/busybox`, tag: "latest" });
    expect(clusterRef(R, "ghcr.io/Org/app:v2")).toMatchObject({ repo: `${R}/ghcr.io/org/app`, tag: "v2" });
    expect(clusterRef(R, "127.0.0.1:5001/team/app:3")).toMatchObject({ repo: `${R}/127.0.0.1-5001/team/app`, tag: "3" });
    expect(clusterRef(R, "localhost/app:3")).toMatchObject({ repo: `${R}/localhost/app`, tag: "3" });
  });
  test("a digest reference gets the digest as its tag", () => {
    const d = `sha256:${"a".repeat(64)}`;
    expect(clusterRef(R, `busybox@${d}`)).toMatchObject({ repo: `${R}/busybox`, tag: `sha256-${"a".repeat(64)}` });
    expect(clusterRef(R, `busybox:1.36@${d}`)).toMatchObject({ repo: `${R}/busybox`, tag: "1.36" });
  });
});

test("X-Registry-Auth carries the registry's address with the credentials (what each node pulls with)", () => {
  expect(registryAuth({ address: "r:5000", username: "staxa", password: "pw" })).toEqual({
    serveraddress: "r:5000",
    username: "staxa",
    password: "pw",
  });
});

test("a service of a pushed image is labelled with the local reference core knows the image by", () => {
  const spec = containerSpec({
    tenant: "acme",
    service: "web",
    deploymentId: "dep_0123456789abcdef",
    image: "r:5000/staxa/acme-web:dep@sha256:ab",
    env: {},
    port: 8080,
    resourceSize: "small",
    network: "staxa-acme",
  });
  const s = serviceSpec(spec, { replicas: 1, localImage: "staxa/acme-web:dep" });
  expect(s.Labels?.[LOCAL_IMAGE_LABEL]).toBe("staxa/acme-web:dep");
  const task = s.TaskTemplate as { ContainerSpec: { Labels: Record<string, string>; Image: string } };
  expect(task.ContainerSpec.Labels[LOCAL_IMAGE_LABEL]).toBeUndefined();
  expect(task.ContainerSpec.Image).toBe("r:5000/staxa/acme-web:dep@sha256:ab");
  expect(serviceSpec(spec, { replicas: 1 }).Labels?.[LOCAL_IMAGE_LABEL]).toBeUndefined();
});

describe("the built-in registry's material", () => {
  test("docker-registry's config: TLS, htpasswd, storage in the directory, deletes enabled", () => {
    const y = registryYaml("/d", "10.0.0.1:5000", "s");
    for (const line of [
      "  addr: 10.0.0.1:5000",
      "    certificate: /d/server.crt",
      "    path: /d/htpasswd",
      "    rootdirectory: /d/data",
    ])
      expect(y.split("\n")).toContain(line);
    expect(y).toContain("  delete:\n    enabled: true");
  });

  test("a CA, a server certificate for the address signed by it, a private password; kept on the next run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "staxa-unit-reg-"));
    try {
      const p = paths(dir);
      const { caPem } = await ensureMaterial(dir, "10.0.0.1:5000");
      const ca = new X509Certificate(caPem);
      const server = new X509Certificate(readFileSync(p.cert));
      expect(ca.ca).toBe(true);
      expect(server.verify(ca.publicKey)).toBe(true);
      expect(server.checkIP("10.0.0.1")).toBe("10.0.0.1");
      expect(statSync(p.password).mode & 0o077).toBe(0);
      expect(statSync(p.caKey).mode & 0o077).toBe(0);
      const password = readFileSync(p.password, "utf8");
      const [user, hash] = readFileSync(p.htpasswd, "utf8").trim().split(":");
      expect(user).toBe("staxa");
      expect(await Bun.password.verify(password, hash!.replace(/^\$2y\$/, "$2b$"))).toBe(true);
      // Again at another address: same CA and password (nodes keep trusting), a certificate for the new address.
      expect((await ensureMaterial(dir, "reg.lan:5000")).caPem).toBe(caPem);
      expect(readFileSync(p.password, "utf8")).toBe(password);
      expect(new X509Certificate(readFileSync(p.cert)).checkHost("reg.lan")).toBe("reg.lan");
      const reg = clusterRegistryOf(loadConfig({ STAXA_CLUSTER_REGISTRY_ADDR: "reg.lan:5000", STAXA_CLUSTER_REGISTRY_DIR: dir }));
      expect(reg).toEqual({
        address: "reg.lan:5000",
        username: "staxa",
        password,
        caPem,
        caPath: "/etc/docker/certs.d/reg.lan:5000/ca.crt",
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
