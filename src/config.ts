// Every setting of the appliance: its env var, its default, its parser. One place.
import { join } from "node:path";
import { parseCidr, size } from "./lib/cidr.ts";

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

const int =
  (min: number, max: number) =>
  (name: string, raw: string): number => {
    if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
const bool = (name: string, raw: string): boolean => {
  if (["1", "true", "yes", "on"].includes(raw.toLowerCase())) return true;
  if (["0", "false", "no", "off", ""].includes(raw.toLowerCase())) return false;
  throw new ConfigError(`${name} must be a boolean (1/0, true/false), got "${raw}"`);
};
const str = (_name: string, raw: string): string => raw;
const url = (name: string, raw: string): string => {
  try {
    const u = new URL(raw);
    if (!["http:", "https:"].includes(u.protocol)) throw new Error();
    return raw.replace(/\/+$/, "");
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got "${raw}"`);
  }
};
// Generated Dockerfiles get it as a build arg, which the image's history keeps: no credentials in it.
const registry = (name: string, raw: string): string => {
  const u = url(name, raw);
  if (new URL(u).username || new URL(u).password)
    throw new ConfigError(`${name} must not carry credentials: build args stay in the image's history`);
  return u;
};
const domain = (name: string, raw: string): string => {
  const v = raw.toLowerCase();
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(v)) {
    throw new ConfigError(`${name} must be a domain name, got "${raw}"`);
  }
  return v;
};
const ip = (name: string, raw: string): string => {
  if (!/^(\d{1,3}\.){3}\d{1,3}$/.test(raw) && !/^[0-9a-f:]+$/i.test(raw)) {
    throw new ConfigError(`${name} must be an IP address, got "${raw}"`);
  }
  return raw;
};
const range = (name: string, raw: string): [number, number] => {
  const m = /^(\d+)-(\d+)$/.exec(raw);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2]) : NaN;
  if (!m || lo < 1 || hi > 65535 || lo > hi) throw new ConfigError(`${name} must be a port range like 30000-32767, got "${raw}"`);
  return [lo, hi];
};
const cidr = (name: string, raw: string): string => {
  if (!parseCidr(raw)) throw new ConfigError(`${name} must be an IPv4 network like 10.224.0.0/12 (host bits zero), got "${raw}"`);
  return raw.trim();
};
const list = (name: string, raw: string): string[] =>
  raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((hp) => {
      if (!/^[^\s:]+:\d+$/.test(hp) && !/^\[[0-9a-f:]+\]:\d+$/i.test(hp))
        throw new ConfigError(`${name} entries must be host:port, got "${hp}"`);
      return hp;
    });

// A registry's address as Docker names it: host[:port], never a URL (it prefixes image references).
const hostPort = (name: string, raw: string): string => {
  if (!/^(?=.{1,253}(:|$))[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/i.test(raw))
    throw new ConfigError(`${name} must be host[:port] like 10.0.0.1:5000 (no scheme), got "${raw}"`);
  return raw.toLowerCase();
};

/** The settings table: key -> [env var, default, parser, description]. The README lists the same. */
const SETTINGS = {
  port: ["STAXA_PORT", "8080", int(1, 65535), "API and dashboard port"],
  host: ["STAXA_HOST", "0.0.0.0", str, "address the API listens on"],
  dataDir: ["STAXA_DATA_DIR", "/var/lib/staxa", str, "database, secret key, build scratch"],
  baseDomain: ["STAXA_BASE_DOMAIN", "staxa.localhost", domain, "tenants are served at <name>.<base domain>"],
  publicScheme: ["STAXA_PUBLIC_SCHEME", "https", str, "scheme of tenant URLs (https, or http for labs without TLS)"],
  caddyAdminUrl: ["STAXA_CADDY_ADMIN_URL", "http://127.0.0.1:2019", url, "Caddy admin API"],
  manageCaddy: ["STAXA_MANAGE_CADDY", "auto", str, "auto|0|1: start caddy as a child when no admin API answers"],
  resolverPort: [
    "STAXA_RESOLVER_PORT",
    "5380",
    int(0, 65535),
    "the route resolver (`staxa resolver`) on 127.0.0.1: Caddy's upstream lookups (udp) and TLS ask (tcp); 0: any free port (tests)",
  ],
  dockerSocket: ["STAXA_DOCKER_SOCKET", "/var/run/docker.sock", str, "Docker engine socket"],
  engine: [
    "STAXA_ENGINE",
    "docker",
    str,
    "docker: tenants run on this host's engine; swarm: as Swarm services on the cluster whose manager STAXA_DOCKER_SOCKET is (docs/swarm.md)",
  ],
  clusterRegistryAddr: [
    "STAXA_CLUSTER_REGISTRY_ADDR",
    "",
    hostPort,
    "swarm: host:port of this server where the built-in registry (`staxa registry`) listens and every node pulls from; builds and pulled images are pushed there (empty, and no STAXA_CLUSTER_REGISTRY: every node must already hold the images)",
  ],
  clusterRegistryDir: [
    "STAXA_CLUSTER_REGISTRY_DIR",
    "",
    str,
    "the built-in registry's CA, certificate, credentials and storage (empty: <data dir>/registry)",
  ],
  clusterRegistry: [
    "STAXA_CLUSTER_REGISTRY",
    "",
    hostPort,
    "swarm: an external registry (host[:port], TLS every node trusts) used instead of the built-in one",
  ],
  clusterRegistryUser: ["STAXA_CLUSTER_REGISTRY_USER", "", str, "user of STAXA_CLUSTER_REGISTRY"],
  clusterRegistryPasswordFile: [
    "STAXA_CLUSTER_REGISTRY_PASSWORD_FILE",
    "",
    str,
    "file (mode 0600) holding the password of STAXA_CLUSTER_REGISTRY_USER",
  ],
  publicIp: ["STAXA_PUBLIC_IP", "127.0.0.1", ip, "server_ip shown for DNS records and connection strings"],
  httpPort: ["STAXA_HTTP_PORT", "80", int(1, 65535), "Caddy's HTTP port for tenants"],
  httpsPort: ["STAXA_HTTPS_PORT", "443", int(1, 65535), "Caddy's HTTPS port for tenants"],
  acmeCa: [
    "STAXA_ACME_CA",
    "https://acme-v02.api.letsencrypt.org/directory",
    str,
    "ACME directory URL, or 'internal' for Caddy's own CA (the default's stand-in for a .localhost, IP or reserved base domain)",
  ],
  acmeCaRoot: ["STAXA_ACME_CA_ROOT", "", str, "PEM file of extra roots trusted for the ACME CA"],
  acmeEmail: ["STAXA_ACME_EMAIL", "", str, "contact email for the ACME account"],
  dnsServers: ["STAXA_DNS_SERVERS", "", list, "resolvers (host:port,...) for domain verification; default the system's"],
  allowPrivateTargets: [
    "STAXA_ALLOW_PRIVATE_TARGETS",
    "0",
    bool,
    "let registry/webhook/git URLs reach loopback and private addresses (tests, labs)",
  ],
  allowFileRepos: ["STAXA_ALLOW_FILE_REPOS", "0", bool, "allow file:// repo URLs (tests)"],
  allowHttpRegistries: ["STAXA_ALLOW_HTTP_REGISTRIES", "0", bool, "allow http:// registry URLs"],
  allowHttpWebhooks: ["STAXA_ALLOW_HTTP_WEBHOOKS", "0", bool, "allow http:// webhook URLs (https only otherwise)"],
  webhookBackoffDivisor: ["STAXA_WEBHOOK_BACKOFF_DIVISOR", "1", int(1, 1000000), "divides webhook retry delays (tests only)"],
  tenantLimit: ["STAXA_TENANT_LIMIT", "100", int(0, 100000), "live tenants per provider"],
  testTenantLimit: ["STAXA_TEST_TENANT_LIMIT", "5", int(0, 1000), "test-mode tenants per provider"],
  testTenantTtlHours: ["STAXA_TEST_TENANT_TTL_HOURS", "24", int(1, 8760), "test-mode tenants are purged after this"],
  previewLimit: ["STAXA_PREVIEW_LIMIT", "10", int(0, 1000), "pull request previews per provider and mode (0: none)"],
  buildConcurrency: ["STAXA_BUILD_CONCURRENCY", "2", int(1, 64), "builds running at once"],
  buildTimeoutSec: ["STAXA_BUILD_TIMEOUT_SEC", "900", int(10, 86400), "a build longer than this fails"],
  buildMemoryMb: ["STAXA_BUILD_MEMORY_MB", "2048", int(64, 1048576), "memory limit of one build"],
  buildCpus: ["STAXA_BUILD_CPUS", "1", int(1, 256), "CPU limit of one build"],
  cloneTimeoutSec: ["STAXA_CLONE_TIMEOUT_SEC", "600", int(5, 86400), "a clone longer than this fails the deployment"],
  pullTimeoutSec: ["STAXA_PULL_TIMEOUT_SEC", "900", int(5, 86400), "an image pull longer than this fails the deployment"],
  startTimeoutSec: [
    "STAXA_START_TIMEOUT_SEC",
    "120",
    int(5, 3600),
    "preparing the network and starting the new container, each, within this",
  ],
  routeTimeoutSec: ["STAXA_ROUTE_TIMEOUT_SEC", "60", int(5, 3600), "switching the route to the new container within this"],
  imageKeep: [
    "STAXA_IMAGE_KEEP",
    "5",
    int(1, 1000),
    "images kept per service: those of its last N successful deployments, plus what runs or deploys",
  ],
  buildCacheMb: [
    "STAXA_BUILD_CACHE_MB",
    "10240",
    int(0, 104857600),
    "build cache budget: dangling build images and BuildKit cache beyond it are pruned, oldest first",
  ],
  minFreeDiskMb: [
    "STAXA_MIN_FREE_DISK_MB",
    "2048",
    int(0, 104857600),
    "below this free space on Docker's data root or the data dir, new builds fail fast and the appliance prunes (0: off)",
  ],
  imagePruneCron: [
    "STAXA_IMAGE_PRUNE_CRON",
    "17 * * * *",
    str,
    "when image retention, the build cache budget and the disk check run (empty: only after deploys)",
  ],
  healthTimeoutSec: ["STAXA_HEALTH_TIMEOUT_SEC", "60", int(1, 3600), "a new container must answer within this"],
  healthPath: ["STAXA_HEALTH_PATH", "/", str, "default HTTP health-check path"],
  drainSec: ["STAXA_DRAIN_SEC", "2", int(0, 600), "old containers keep running this long after the route switched"],
  maxReplicas: [
    "STAXA_MAX_REPLICAS",
    "10",
    int(1, 10),
    "most replicas one service may run (a service's `replicas`, 1-10); each replica is a container under the tenant's limits",
  ],
  reconcileEverySec: [
    "STAXA_RECONCILE_EVERY_SEC",
    "60",
    int(1, 3600),
    "the periodic reconciliation compares Docker and Caddy with the store this often",
  ],
  maxBodyBytes: ["STAXA_MAX_BODY_BYTES", "1048576", int(1024, 104857600), "largest accepted request body"],
  rateLimitScale: ["STAXA_RATE_LIMIT_SCALE", "1", int(1, 100000), "multiplies every rate limit (labs, benchmarks)"],
  jwtJwksUrl: ["STAXA_JWT_JWKS_URL", "", str, "OIDC JWKS URL for dashboard JWTs (e.g. Clerk)"],
  jwtIssuer: ["STAXA_JWT_ISSUER", "", str, "expected iss of OIDC JWTs"],
  jwtAudience: ["STAXA_JWT_AUDIENCE", "", str, "expected aud of OIDC JWTs"],
  sessionTtlSec: ["STAXA_SESSION_TTL_SEC", "3600", int(60, 604800), "lifetime of built-in login JWTs"],
  portPool: ["STAXA_PORT_POOL", "30000-32767", range, "host ports for inbound network rules"],
  tenantSubnetPool: [
    "STAXA_TENANT_SUBNET_POOL",
    "10.224.0.0/12",
    cidr,
    "IPv4 pool tenant networks get their subnets from (not Docker's default pools); blocks overlapping a host route or another Docker network are skipped",
  ],
  tenantSubnetPrefix: [
    "STAXA_TENANT_SUBNET_PREFIX",
    "27",
    int(16, 29),
    "prefix length of one tenant's subnet: /27 = 29 containers per tenant, 32,768 tenants in the default pool",
  ],
  sseMaxPerProvider: [
    "STAXA_SSE_MAX_PER_PROVIDER",
    "20",
    int(1, 100000),
    "open event streams (and, apart, log follows) per provider; more get 429",
  ],
  networkRuleLimit: ["STAXA_NETWORK_RULE_LIMIT", "20", int(0, 10000), "active network rules per tenant"],
  builderNodeImage: ["STAXA_NODE_IMAGE", "node:20-slim", str, "base image for Node builds"],
  builderBunImage: ["STAXA_BUN_IMAGE", "oven/bun:1", str, "base image for Bun builds"],
  builderPythonImage: ["STAXA_PYTHON_IMAGE", "python:3.12-slim", str, "base image for Python builds"],
  builderGoImage: ["STAXA_GO_IMAGE", "golang:1.22", str, "base image for Go builds"],
  runtimeStaticImage: ["STAXA_STATIC_IMAGE", "caddy:2-alpine", str, "image serving static sites"],
  runtimeGoImage: ["STAXA_GO_RUNTIME_IMAGE", "gcr.io/distroless/static-debian12", str, "image running Go binaries"],
  npmRegistry: [
    "STAXA_NPM_REGISTRY",
    "",
    registry,
    "npm registry (a mirror) the installs of generated Node and Bun Dockerfiles use, npm, pnpm and corepack alike (empty: the base image's)",
  ],
  githubApiUrl: ["STAXA_GITHUB_API_URL", "https://api.github.com", url, "GitHub REST API base"],
  githubAppId: ["STAXA_GITHUB_APP_ID", "", str, "GitHub App id"],
  githubPrivateKeyFile: ["STAXA_GITHUB_PRIVATE_KEY_FILE", "", str, "GitHub App private key PEM file"],
  githubWebhookSecret: ["STAXA_GITHUB_WEBHOOK_SECRET", "", str, "secret of GitHub push webhooks"],
  githubWebUrl: [
    "STAXA_GITHUB_WEB_URL",
    "",
    url,
    "GitHub web URL tenant repo URLs are matched on (default: github.com for api.github.com, else the API's host)",
  ],
  githubGitUrl: [
    "STAXA_GITHUB_GIT_URL",
    "",
    url,
    "base URL GitHub repos are cloned from (default: https://<web host of STAXA_GITHUB_API_URL>; tests point it at a local git server)",
  ],
  logLevel: ["STAXA_LOG_LEVEL", "info", str, "debug|info|warn|error"],
  backupCron: ["STAXA_BACKUP_CRON", "", str, "cron expression for scheduled backups (empty: off)"],
  backupKeep: ["STAXA_BACKUP_KEEP", "7", int(1, 1000), "scheduled backups kept"],
  backupDir: ["STAXA_BACKUP_DIR", "", str, "where scheduled backups go (empty: <data dir>/backups)"],
  metricsToken: ["STAXA_METRICS_TOKEN", "", str, "bearer token /metrics requires (empty: /metrics is open)"],
  backupPassphraseFile: [
    "STAXA_BACKUP_PASSPHRASE_FILE",
    "",
    str,
    "file whose passphrase encrypts scheduled backups (empty: unencrypted, mode 0600)",
  ],
} as const;

type Settings = typeof SETTINGS;
export type Config = { [K in keyof Settings]: ReturnType<Settings[K][2]> } & { dbPath: string; secretKeyPath: string };

/** Parses every setting from `env`; throws ConfigError naming the variable on the first bad one. */
export function loadConfig(env: Env = process.env): Config {
  const out: Record<string, unknown> = {};
  for (const [key, [name, def, parse]] of Object.entries(SETTINGS)) {
    const raw = env[name] ?? def;
    out[key] =
      raw === "" && parse !== bool ? (parse === list ? [] : "") : (parse as (n: string, r: string) => unknown)(name, raw);
  }
  const cfg = out as Config;
  if (!["http", "https"].includes(cfg.publicScheme)) throw new ConfigError(`STAXA_PUBLIC_SCHEME must be http or https`);
  if (!["auto", "0", "1"].includes(cfg.manageCaddy)) throw new ConfigError(`STAXA_MANAGE_CADDY must be auto, 0 or 1`);
  if (!["docker", "swarm"].includes(cfg.engine))
    throw new ConfigError(`STAXA_ENGINE must be docker or swarm, got "${cfg.engine}"`);
  if (cfg.clusterRegistry && (!cfg.clusterRegistryUser || !cfg.clusterRegistryPasswordFile))
    throw new ConfigError("STAXA_CLUSTER_REGISTRY needs STAXA_CLUSTER_REGISTRY_USER and STAXA_CLUSTER_REGISTRY_PASSWORD_FILE");
  if (!["debug", "info", "warn", "error"].includes(cfg.logLevel))
    throw new ConfigError(`STAXA_LOG_LEVEL must be debug, info, warn or error`);
  const pool = parseCidr(cfg.tenantSubnetPool);
  if (!pool) throw new ConfigError("STAXA_TENANT_SUBNET_POOL must not be empty: tenant networks need a pool of their own");
  if (cfg.tenantSubnetPrefix <= pool.prefix)
    throw new ConfigError(
      `STAXA_TENANT_SUBNET_PREFIX (/${cfg.tenantSubnetPrefix}) must be longer than the pool's /${pool.prefix}`,
    );
  if (size(pool.prefix) / size(cfg.tenantSubnetPrefix) > 2 ** 20)
    throw new ConfigError(
      `STAXA_TENANT_SUBNET_POOL split into /${cfg.tenantSubnetPrefix} gives more than 2^20 subnets; use a smaller pool or a shorter prefix`,
    );
  cfg.dbPath = join(cfg.dataDir, "staxa.db");
  cfg.secretKeyPath = join(cfg.dataDir, "secret.key");
  return cfg;
}

/** [env var, default, description] rows, for `staxa --help` and the README. */
export function settingsTable(): Array<[string, string, string]> {
  return Object.values(SETTINGS).map(([name, def, , desc]) => [name, def, desc]);
}
