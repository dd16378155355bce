// The built-in cluster registry's material (`staxa registry`, swarm engine): a CA every node trusts, a server
// certificate for the address nodes pull from, one htpasswd user with a random password, and the docker-registry
// config. Created once in the registry's directory; the appliance reads the CA and the credentials from there.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import forge from "node-forge";
import type { Config } from "../config.ts";
import { Upstream } from "../lib/errors.ts";

/** The user the appliance pushes as (and every node pulls as): the only one the registry knows. */
export const REGISTRY_USER = "staxa";

/** The registry's directory: STAXA_CLUSTER_REGISTRY_DIR, else <data dir>/registry. */
export const registryDir = (config: Pick<Config, "clusterRegistryDir" | "dataDir">): string =>
  config.clusterRegistryDir || join(config.dataDir, "registry");

export const paths = (dir: string) => ({
  ca: join(dir, "ca.crt"),
  caKey: join(dir, "ca.key"),
  cert: join(dir, "server.crt"),
  key: join(dir, "server.key"),
  /** The address the server certificate was made for: a new address gets a new certificate. */
  certAddr: join(dir, "server.addr"),
  password: join(dir, "password"),
  htpasswd: join(dir, "htpasswd"),
  config: join(dir, "config.yml"),
  storage: join(dir, "data"),
});

/** Where a Docker engine looks for the CA of a registry (every node, and the manager that pushes). */
export const certsDPath = (address: string): string => `/etc/docker/certs.d/${address}/ca.crt`;

/** docker-registry's config: TLS, htpasswd auth, filesystem storage under the directory, manifest deletes allowed. */
export function registryYaml(dir: string, address: string, secret: string): string {
  const p = paths(dir);
  return [
    "version: 0.1",
    "log:",
    "  level: warn",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${p.storage}`,
    // Retention deletes a removed image's manifest (DELETE by digest); `docker-registry garbage-collect` frees blobs.
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: ${address}`,
    `  secret: ${secret}`,
    "  tls:",
    `    certificate: ${p.cert}`,
    `    key: ${p.key}`,
    "auth:",
    "  htpasswd:",
    "    realm: staxa-cluster",
    `    path: ${p.htpasswd}`,
    "",
  ].join("\n");
}

const rsaPem = () =>
  generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }) as string;

function certificate(o: {
  subject: string;
  key: string;
  issuer?: { cert: string; key: string };
  ca: boolean;
  host?: string;
  days: number;
}) {
  const key = forge.pki.privateKeyFromPem(o.key) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = "01" + randomBytes(12).toString("hex");
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + o.days * 86400_000);
  cert.setSubject([{ name: "commonName", value: o.subject }]);
  const issuer = o.issuer ? forge.pki.certificateFromPem(o.issuer.cert) : cert;
  cert.setIssuer(issuer.subject.attributes);
  cert.setExtensions(
    o.ca
      ? [
          { name: "basicConstraints", cA: true, critical: true },
          { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
        ]
      : [
          { name: "basicConstraints", cA: false },
          { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
          { name: "extKeyUsage", serverAuth: true },
          { name: "subjectAltName", altNames: [isIP(o.host!) ? { type: 7, ip: o.host! } : { type: 2, value: o.host! }] },
        ],
  );
  cert.sign(forge.pki.privateKeyFromPem(o.issuer?.key ?? o.key), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** Writes a file whole or not at all (a crash never leaves half a key). */
function put(path: string, body: string, mode = 0o600): void {
  writeFileSync(`${path}.tmp`, body, { mode });
  renameSync(`${path}.tmp`, path);
}

/**
 * Creates what is missing: the CA (kept for good: nodes trust it), the server certificate (again when the address
 * changed), the password and its htpasswd line, the config. Returns the CA's PEM.
 */
export async function ensureMaterial(dir: string, address: string): Promise<{ caPem: string; configPath: string }> {
  const p = paths(dir);
  mkdirSync(p.storage, { recursive: true, mode: 0o700 });
  if (!existsSync(p.ca) || !existsSync(p.caKey)) {
    const key = rsaPem();
    put(p.caKey, key);
    put(p.ca, certificate({ subject: "staxa cluster registry CA", key, ca: true, days: 3650 }), 0o644);
  }
  const host = address.replace(/:\d+$/, "");
  if (!existsSync(p.cert) || !existsSync(p.certAddr) || readFileSync(p.certAddr, "utf8") !== address) {
    const key = rsaPem();
    const issuer = { cert: readFileSync(p.ca, "utf8"), key: readFileSync(p.caKey, "utf8") };
    put(p.key, key);
    put(p.cert, certificate({ subject: host, key, issuer, ca: false, host, days: 825 }), 0o644);
    put(p.certAddr, address, 0o644);
  }
  if (!existsSync(p.password) || !existsSync(p.htpasswd)) {
    const password = randomBytes(24).toString("base64url");
    // 32 random bytes of entropy need no slow hash; a low cost keeps each of a push's many requests cheap.
    const hash = (await Bun.password.hash(password, { algorithm: "bcrypt", cost: 5 })).replace(/^\$2[ab]\$/, "$2y$");
    put(p.password, password);
    put(p.htpasswd, `${REGISTRY_USER}:${hash}\n`);
  }
  put(p.config, registryYaml(dir, address, randomBytes(24).toString("hex")));
  return { caPem: readFileSync(p.ca, "utf8"), configPath: p.config };
}

/** The registry the swarm engine pushes to and nodes pull from, with its credentials. */
export interface ClusterRegistry {
  /** host:port, the prefix of pushed references. */
  address: string;
  username: string;
  password: string;
  /** The built-in registry's CA (PEM); absent for an external registry (trusted by the system's roots). */
  caPem?: string;
  /** Where a node puts caPem: /etc/docker/certs.d/<address>/ca.crt. */
  caPath?: string;
}

/**
 * STAXA_CLUSTER_REGISTRY (external, credentials from settings), else the built-in one at STAXA_CLUSTER_REGISTRY_ADDR
 * (credentials from its directory, which `staxa registry` creates), else undefined: nodes must hold the images.
 */
export function clusterRegistryOf(config: Config): ClusterRegistry | undefined {
  if (config.clusterRegistry) {
    const password = readFileSync(config.clusterRegistryPasswordFile, "utf8").trim();
    return { address: config.clusterRegistry, username: config.clusterRegistryUser, password };
  }
  if (!config.clusterRegistryAddr) return undefined;
  const p = paths(registryDir(config));
  if (!existsSync(p.password) || !existsSync(p.ca))
    throw new Upstream(
      "registry",
      `the cluster registry at ${config.clusterRegistryAddr} is not set up: run \`staxa registry\` first`,
    );
  return {
    address: config.clusterRegistryAddr,
    username: REGISTRY_USER,
    password: readFileSync(p.password, "utf8").trim(),
    caPem: readFileSync(p.ca, "utf8"),
    caPath: certsDPath(config.clusterRegistryAddr),
  };
}
