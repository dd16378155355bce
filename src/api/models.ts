// Response models of the OpenAPI document: the `data` of each resource, as the core view functions build it
// (tenantView, serviceView, deploymentView, domainView, ruleView, keyView, jobView, …). TypeBox, like the request
// schemas, so the document and a generated client type the same fields; openapi-client.test.ts checks a real
// response against them.
import { t, type TSchema } from "elysia";

const S = (description?: string) => t.String(description ? { description } : {});
const Maybe = <T extends TSchema>(s: T) => t.Union([s, t.Null()]);
const MS = (description?: string) => Maybe(S(description));
const I = (description?: string) => t.Integer(description ? { description } : {});
const B = (description?: string) => t.Boolean(description ? { description } : {});
const Time = (description = "ISO 8601 UTC time") => S(description);
const Strings = (description?: string) => t.Array(t.String(), description ? { description } : {});
/** An object whose fields are not fixed (timings, payloads, per-service samples). */
const Open = (description: string) => t.Object({}, { additionalProperties: true, description });

export const EnvVar = t.Object({ key: S(), value: S('The value; "****" for a secret (never sent back in clear)') });

export const Deployment = t.Object({
  id: S(),
  tenant_id: S(),
  service_name: S(),
  status: S("queued, building, deploying, running, failed, cancelled, superseded, rolled_back"),
  reason: MS("Why it failed or was cancelled, in words"),
  trigger: S(),
  branch: MS(),
  commit_sha: MS(),
  image: MS(),
  framework: MS("Detected framework"),
  rollback_from: MS(),
  build_log_url: S(),
  timings: Open("Seconds per stage"),
  created_at: Time(),
  started_at: Maybe(Time()),
  finished_at: Maybe(Time()),
});

const DnsRecord = t.Object({ type: S(), name: S(), value: S() });
export const Domain = t.Object(
  {
    id: S(),
    domain: S(),
    is_primary: B(),
    verified: B(),
    ssl_status: MS(),
    dns_status: MS(),
    service_id: MS("Name of the service it routes to"),
    verification: t.Object({ type: S(), name: S(), value: S(), token: S(), pointing: t.Array(DnsRecord) }),
    dns_records: t.Array(DnsRecord),
    ssl_issuer: MS(),
    ssl_expires_at: Maybe(Time()),
    last_checked_at: Maybe(Time()),
    created_at: Time(),
    updated_at: Time(),
  },
  { additionalProperties: true },
);

export const DomainList = t.Object({ domains: t.Array(Domain), server_ip: S("The address A/AAAA records point to") });

export const Service = t.Object({
  id: S(),
  name: S(),
  source_type: S("github or image"),
  repo_url: MS(),
  branch: MS(),
  image_url: MS(),
  status: S(),
  is_primary: B(),
  is_routable: B(),
  port: Maybe(I()),
  resource_size: S(),
  host: MS("Host name when routable"),
  current_deployment_id: MS(),
  priority: I(),
  depends_on: Strings(),
  volumes: t.Array(Open("{name, mount_path, …}")),
  healthcheck: Maybe(Open("{path}")),
  build_context: MS(),
  env: t.Array(EnvVar),
  replicas: I("Containers the service should run (1-10)"),
  replicas_running: I("Containers recorded as serving it now (a scale or restore in progress shows fewer)"),
});

const tenantCore = {
  id: S(),
  name: S(),
  display_name: MS(),
  status: S(
    "provisioning, deploying, ready, degraded (swarm: a service runs fewer tasks than its replicas, still serving), failed, deleting",
  ),
  status_reason: MS("Why the tenant is in its status, in words"),
  url: S("The app's URL"),
  source_type: MS(),
  preview: Maybe(
    t.Object(
      { base_tenant_id: MS("The tenant whose pull request this previews (null once it is gone)"), repo: S(), pr_number: I() },
      { description: "Set on a pull request preview tenant; null otherwise" },
    ),
  ),
  created_at: Time(),
  updated_at: Time(),
};
export const TenantSummary = t.Object(tenantCore);
export const Tenant = t.Object({
  ...tenantCore,
  events_url: S(),
  mode: S("live or test"),
  repo_url: MS(),
  branch: MS(),
  image_url: MS(),
  resource_size: MS(),
  app_port: Maybe(I()),
  egress_mode: S("open or restricted"),
  services: t.Array(Service),
  domains: t.Array(Domain),
  deployments: t.Array(Deployment, { description: "The five latest" }),
});
export const TenantDeleted = t.Object({ id: S(), name: S(), status: S("deleting") });
export const DeployAll = t.Object({ tenant_id: S(), status: S(), services: Strings() });

export const NetworkRule = t.Object({
  id: S(),
  direction: S("inbound or outbound"),
  protocol: S(),
  target_service: MS(),
  target_port: Maybe(I()),
  allocated_port: Maybe(I()),
  source_cidrs: Strings(),
  destination_cidrs: Strings(),
  destination_port: Maybe(I()),
  status: S(),
  description: MS(),
  expires_at: Maybe(Time()),
  connection_string: MS("host:port while an inbound rule is open"),
  created_at: Time(),
});

export const Account = t.Object({ id: S(), email: S(), name: MS(), tenant_count: I(), created_at: Time() });
export const ApiKey = t.Object({
  id: S(),
  name: S(),
  prefix: S(),
  mode: S(),
  scopes: Strings(),
  expires_at: Maybe(Time()),
  created_at: Time(),
});
export const NewApiKey = t.Object({ ...ApiKey.properties, key: S("The key itself: shown once") }, { additionalProperties: true });
export const Session = Open("{token, expires_at, account}: a dashboard session");
export const AuthStatus = t.Object({ setup_required: B() });

export const Template = t.Object(
  { id: S(), name: S(), framework: S(), description: S(), repo_url: t.Optional(S()), image: t.Optional(S()) },
  { additionalProperties: true },
);
export const Registry = t.Object({
  id: S(),
  name: S(),
  registry_url: S(),
  username: S(),
  verified: B(),
  created_at: Time(),
  updated_at: Time(),
});
export const Installation = t.Object({ installation_id: t.Union([I(), S()]), account: MS(), status: S(), created_at: Time() });

export const Webhook = t.Object(
  { id: S(), url: S(), events: Strings(), description: MS(), active: B(), created_at: Time(), updated_at: Time() },
  { additionalProperties: true },
);
export const Delivery = t.Object({
  id: S(),
  event_id: S(),
  event: S(),
  status: S(),
  attempts: I(),
  last_status_code: Maybe(I()),
  last_error: MS(),
  next_attempt_at: Maybe(Time()),
  created_at: Time(),
  delivered_at: Maybe(Time()),
  payload: t.Unknown(),
});

export const Job = t.Object({
  id: S(),
  service: S(),
  schedule: S("5-field cron, UTC"),
  command: Strings("argv"),
  timeout_sec: I(),
  concurrency_policy: S("forbid, allow or replace"),
  paused: B(),
  next_run_at: Maybe(Time()),
  created_at: Time(),
  updated_at: Time(),
});
export const JobRun = t.Object({
  id: S(),
  job_id: S(),
  trigger: S(),
  status: S(),
  image: MS(),
  exit_code: Maybe(I()),
  reason: MS(),
  scheduled_for: Maybe(Time()),
  started_at: Maybe(Time()),
  finished_at: Maybe(Time()),
  duration_ms: Maybe(I()),
  logs: t.Optional(S("Tail of the run's logs (single run only)")),
});

export const PreviewSettings = t.Object({
  enabled: B(),
  allow_forks: B("Pull requests from forks get previews too (their code runs with the tenant's env)"),
  ttl_hours: I("A preview without a new commit for this long is deleted"),
  env_overrides: t.Array(t.Object({ key: S(), value: MS('The value ("****" for a secret); null: removed in previews') })),
  watches: t.Array(t.Object({ repo: S("owner/repo"), branch: S() }), {
    description: "Pull requests to these repos and branches get previews",
  }),
  limit: I("Previews per provider and mode (STAXA_PREVIEW_LIMIT)"),
});
export const Preview = t.Object({
  tenant_id: S(),
  name: S("<name>-pr-<n>"),
  status: S(),
  url: S(),
  pr_number: I(),
  repo: S("owner/repo of the pull request's base"),
  head_repo: S("owner/repo of its head (a fork's when fork is true)"),
  head_ref: S(),
  head_sha: S(),
  fork: B(),
  expires_at: Time("When the TTL deletes it unless a new commit comes"),
  created_at: Time(),
  updated_at: Time(),
});

/** The free-form answers: shapes owned by one core function each. */
export const Usage = Open("Per-service samples, history and flags");
export const BuildCapacity = Open("Free space against STAXA_MIN_FREE_DISK_MB and whether builds may run");
export const Verification = Open("The outcome of a verification");
export const Named = Open("A GitHub repository or branch, a registry repository or tag");

// Tenant volume backups: their models live beside their routes.
export { Backup, BackupSchedule } from "./backup-models.ts";
export { Node, JoinCommand } from "./node-models.ts";
export { AgentState } from "./agent-models.ts";
