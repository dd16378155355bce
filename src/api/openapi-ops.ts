// What the route table cannot say about each operation: its summary in words and its success answer (status and
// the `data` model of models.ts). Request schemas come from the routes themselves (openapi.ts); a route may also
// set `detail.summary`, which wins. openapi.test.ts fails when an operation the app serves is missing here.
import { t, type TSchema } from "elysia";
import * as m from "./models.ts";
import * as nm from "./node-models.ts";
import { AgentState } from "./agent-models.ts";

/** How the data is wrapped: one resource, a paginated list, a whole list, no body, or another media type. */
export type Shape = "one" | "page" | "all" | "none" | "text" | "sse" | "html" | "document";
export interface OpInfo {
  summary: string;
  status: number;
  shape: Shape;
  model?: TSchema;
  body?: TSchema;
}

const op = (summary: string, status: number, shape: Shape, model?: TSchema, body?: TSchema): OpInfo => ({
  summary,
  status,
  shape,
  model,
  body,
});

// PUT env's body: every name is a variable (core checks each), so the route has no schema to refuse a field with.
const envBody = t.Record(t.String(), t.String(), { description: "The complete set of variables, name → value (replaces all)" });
const T = "/api/v1/tenants/:id";
export const OPS: Record<string, OpInfo> = {
  "POST /api/v1/register": op("Register the account of a dashboard identity", 201, "one", m.Account),
  "GET /api/v1/account": op("Get the account", 200, "one", m.Account),
  "PATCH /api/v1/account": op("Update the account", 200, "one", m.Account),
  "GET /api/v1/api-keys": op("List API keys", 200, "all", m.ApiKey),
  "POST /api/v1/api-keys": op("Create an API key (the key is shown once)", 201, "one", m.NewApiKey),
  "DELETE /api/v1/api-keys/:id": op("Revoke an API key", 204, "none"),
  "GET /api/v1/auth/status": op("Whether the first administrator still has to be set up", 200, "one", m.AuthStatus),
  "POST /api/v1/auth/setup": op("Set up the first administrator", 201, "one", m.Session),
  "POST /api/v1/auth/login": op("Log in to the dashboard", 200, "one", m.Session),
  "POST /api/v1/auth/logout": op("Log out of the dashboard", 204, "none"),
  "GET /api/v1/templates": op("List app templates", 200, "all", m.Template),
  "GET /api/v1/nodes": op("List the cluster's nodes (swarm engine; 409 not_clustered on one host)", 200, "all", nm.Node),
  "GET /api/v1/nodes/:nodeId": op("Get a node", 200, "one", nm.Node),
  "POST /api/v1/nodes/join-token": op("The command a new server runs to join the cluster", 200, "one", nm.JoinCommand),
  "POST /api/v1/nodes/:nodeId/drain": op("Drain a node: its tasks move to the other nodes", 200, "one", nm.Node),
  "POST /api/v1/nodes/:nodeId/activate": op("Activate a node: it takes tasks again", 200, "one", nm.Node),
  "DELETE /api/v1/nodes/:nodeId": op("Remove a node from the cluster", 204, "none"),
  "GET /api/v1/nodes/agent/state": op("The desired network state the node agents poll (agent token)", 200, "one", AgentState),
  "GET /api/v1/templates/:id": op("Get an app template", 200, "one", m.Template),
  "GET /api/v1/tenants": op("List tenants", 200, "page", m.TenantSummary),
  "POST /api/v1/tenants": op("Create a tenant and deploy it", 202, "one", m.Tenant),
  [`GET ${T}`]: op("Get a tenant", 200, "one", m.Tenant),
  [`PATCH ${T}`]: op("Update a tenant", 200, "one", m.Tenant),
  [`DELETE ${T}`]: op("Delete a tenant", 202, "one", m.TenantDeleted),
  [`GET ${T}/deployments`]: op("List a tenant's deployments", 200, "page", m.Deployment),
  [`POST ${T}/deployments`]: op("Deploy the tenant's primary service", 202, "one", m.Deployment),
  [`GET ${T}/deployments/:depId`]: op("Get a deployment", 200, "one", m.Deployment),
  [`GET ${T}/deployments/:depId/logs`]: op("Get a deployment's build log", 200, "text"),
  [`POST ${T}/deployments/:depId/rollback`]: op("Roll back to a deployment", 202, "one", m.Deployment),
  [`POST ${T}/deployments/:depId/cancel`]: op("Cancel a deployment", 202, "one", m.Deployment),
  "GET /api/v1/build-capacity": op("Whether new builds may run now", 200, "one", m.BuildCapacity),
  [`GET ${T}/services`]: op("List a tenant's services", 200, "all", m.Service),
  [`POST ${T}/services`]: op("Add a service to a tenant", 202, "one", m.Service),
  [`PATCH ${T}/services/:name`]: op("Scale a service: set its replicas (no rebuild)", 202, "one", m.Service),
  [`DELETE ${T}/services/:name`]: op("Remove a service", 204, "none"),
  [`POST ${T}/deploy`]: op("Deploy every service of a tenant", 202, "one", m.DeployAll),
  [`POST ${T}/services/:name/deploy`]: op("Deploy one service", 202, "one", m.Deployment),
  [`GET ${T}/services/:name/deployments`]: op("List a service's deployments", 200, "page", m.Deployment),
  [`GET ${T}/services/:name/logs`]: op("Get a service's container logs", 200, "text"),
  [`GET ${T}/env`]: op("List environment variables (secrets masked)", 200, "all", m.EnvVar),
  [`PUT ${T}/env`]: op("Replace all environment variables", 202, "all", m.EnvVar, envBody),
  [`PATCH ${T}/env`]: op("Set or remove single environment variables", 202, "all", m.EnvVar),
  [`GET ${T}/events`]: op("Stream a tenant's deployment events", 200, "sse"),
  [`GET ${T}/logs`]: op("Get the tenant's container logs", 200, "text"),
  [`GET ${T}/domains`]: op("List custom domains", 200, "one", m.DomainList),
  [`POST ${T}/domains`]: op("Add a custom domain", 201, "one", m.Domain),
  [`POST ${T}/domains/:domId/verify`]: op("Verify a custom domain's DNS records", 200, "one", m.Domain),
  [`DELETE ${T}/domains/:domId`]: op("Remove a custom domain", 204, "none"),
  [`GET ${T}/network-rules`]: op("List network rules", 200, "all", m.NetworkRule),
  [`POST ${T}/network-rules`]: op("Create a network rule", 201, "one", m.NetworkRule),
  [`GET ${T}/network-rules/:ruleId`]: op("Get a network rule", 200, "one", m.NetworkRule),
  [`DELETE ${T}/network-rules/:ruleId`]: op("Delete a network rule", 204, "none"),
  "POST /api/v1/github/webhook": op("Receive a GitHub webhook delivery", 202, "one", m.Verification),
  "GET /api/v1/github/installation": op("Get the GitHub App installation", 200, "one", m.Installation),
  "POST /api/v1/github/installation": op("Register a GitHub App installation", 200, "one", m.Installation),
  "DELETE /api/v1/github/installation": op("Remove the GitHub App installation", 204, "none"),
  "GET /api/v1/github/repos": op("List the installation's repositories", 200, "all", m.Named),
  "GET /api/v1/github/repos/:owner/:repo/branches": op("List a repository's branches", 200, "all", m.Named),
  "GET /api/v1/registries": op("List registry credentials", 200, "all", m.Registry),
  "POST /api/v1/registries": op("Add a registry credential", 201, "one", m.Registry),
  "GET /api/v1/registries/:credId": op("Get a registry credential", 200, "one", m.Registry),
  "PATCH /api/v1/registries/:credId": op("Update a registry credential", 200, "one", m.Registry),
  "DELETE /api/v1/registries/:credId": op("Delete a registry credential", 204, "none"),
  "POST /api/v1/registries/:credId/verify": op("Check a registry credential against its registry", 200, "one", m.Verification),
  "GET /api/v1/registries/:credId/repos": op("List a registry's repositories", 200, "all", m.Named),
  "GET /api/v1/registries/:credId/repos/:repo/tags": op("List a repository's tags", 200, "all", m.Named),
  "POST /api/v1/webhooks": op("Create a webhook endpoint (the secret is shown once)", 201, "one", m.Webhook),
  "GET /api/v1/webhooks": op("List webhook endpoints", 200, "page", m.Webhook),
  "GET /api/v1/webhooks/:id": op("Get a webhook endpoint", 200, "one", m.Webhook),
  "PATCH /api/v1/webhooks/:id": op("Update a webhook endpoint", 200, "one", m.Webhook),
  "DELETE /api/v1/webhooks/:id": op("Delete a webhook endpoint", 204, "none"),
  "GET /api/v1/webhooks/:id/deliveries": op("List a webhook's deliveries", 200, "page", m.Delivery),
  "POST /api/v1/webhooks/:id/deliveries/:deliveryId/redeliver": op("Send a delivery again", 202, "one", m.Delivery),
  [`GET ${T}/jobs`]: op("List scheduled jobs", 200, "all", m.Job),
  [`POST ${T}/jobs`]: op("Create a scheduled job", 201, "one", m.Job),
  [`GET ${T}/jobs/:jobId`]: op("Get a scheduled job", 200, "one", m.Job),
  [`DELETE ${T}/jobs/:jobId`]: op("Delete a scheduled job", 204, "none"),
  [`POST ${T}/jobs/:jobId/pause`]: op("Pause a job", 200, "one", m.Job),
  [`POST ${T}/jobs/:jobId/resume`]: op("Resume a job", 200, "one", m.Job),
  [`POST ${T}/jobs/:jobId/run`]: op("Run a job now", 202, "one", m.JobRun),
  [`GET ${T}/jobs/:jobId/runs`]: op("List a job's runs", 200, "all", m.JobRun),
  [`GET ${T}/jobs/:jobId/runs/:runId`]: op("Get a job run with its logs", 200, "one", m.JobRun),
  [`GET ${T}/usage`]: op("Get live resource usage (swarm engine: 409 usage_not_sampled)", 200, "one", m.Usage),
  [`GET ${T}/backups`]: op("List a tenant's backups", 200, "all", m.Backup),
  [`POST ${T}/backups`]: op("Back up now", 202, "all", m.Backup),
  [`GET ${T}/backups/schedule`]: op("Get the backup schedule", 200, "one", m.BackupSchedule),
  [`PUT ${T}/backups/schedule`]: op("Set the backup schedule", 200, "one", m.BackupSchedule),
  [`DELETE ${T}/backups/schedule`]: op("Remove the backup schedule", 204, "none"),
  [`POST ${T}/backups/:backupId/restore`]: op("Restore a backup", 202, "one", m.Backup),
  [`DELETE ${T}/backups/:backupId`]: op("Delete a backup", 204, "none"),
  [`GET ${T}/previews`]: op("Get the pull request preview settings", 200, "one", m.PreviewSettings),
  [`PUT ${T}/previews`]: op("Set the pull request preview settings", 200, "one", m.PreviewSettings),
  [`GET ${T}/previews/list`]: op("List the tenant's pull request previews", 200, "all", m.Preview),
  "GET /api/v1/openapi.json": op("Get the OpenAPI document", 200, "document"),
  "GET /api/v1/docs": op("Read the API documentation", 200, "html"),
};

/** What each tag groups, for the document's tag list. */
export const TAGS: Record<string, string> = {
  Account: "The provider account behind the API key",
  "Api Keys": "API keys and their scopes",
  Backups: "Encrypted backups of a tenant's volumes and databases, on demand and on a schedule",
  Auth: "Dashboard sign-in",
  "Build Capacity": "Whether builds may run (the disk guard)",
  Deploy: "Deploying every service of a tenant",
  Deployments: "Builds and rollouts of a tenant's services",
  Domains: "Custom domains and their DNS verification",
  Env: "Environment variables of a tenant",
  Events: "Live deployment events (Server-Sent Events)",
  "GitHub App": "The GitHub App installation, its repositories and the push webhook",
  Jobs: "Scheduled jobs and their runs",
  Logs: "Container logs",
  Meta: "This document and its reader",
  "Network Rules": "Inbound ports and outbound allow-lists",
  Nodes: "The servers of a swarm cluster (STAXA_ENGINE=swarm): list, join, drain, activate, remove",
  Previews: "Preview tenants per GitHub pull request",
  Register: "Registering a dashboard identity",
  "Registry Credentials": "Private container registry credentials",
  Services: "The services (containers) of a tenant",
  Templates: "App templates to start from",
  Tenants: "Tenants: one app each, with its services, domains and deployments",
  Usage: "Live resource usage of a tenant's services",
  Webhooks: "Outgoing webhooks and their deliveries",
};
