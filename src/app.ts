// Assembles the Elysia app: plugins, then one route module per resource under /api/v1.
import { Elysia } from "elysia";
import type { ApiDeps } from "./api/deps.ts";
import { envelope } from "./api/plugins/envelope.ts";
import { metrics } from "./api/plugins/metrics.ts";
import { rateLimit } from "./api/plugins/rate-limit.ts";
import { registerApp } from "./api/plugins/root-app.ts";
import { awaitJwtKeys } from "./api/plugins/auth.ts";
import { accountRoutes } from "./api/account.ts";
import { apiKeyRoutes } from "./api/api-keys.ts";
import { sessionRoutes } from "./api/session.ts";
import { templateRoutes } from "./api/templates.ts";
import { tenantRoutes } from "./api/tenants.ts";
import { deploymentRoutes } from "./api/deployments.ts";
import { serviceRoutes } from "./api/services.ts";
import { envRoutes } from "./api/env.ts";
import { realtimeRoutes } from "./api/realtime.ts";
import { domainRoutes } from "./api/domains.ts";
import { networkRuleRoutes } from "./api/network-rules.ts";
import { githubRoutes } from "./api/github.ts";
import { registryRoutes } from "./api/registries.ts";
import { nodeRoutes } from "./api/nodes.ts";
import { agentRoutes } from "./api/agent.ts";
import { webhookRoutes } from "./api/webhooks.ts";
import { jobRoutes } from "./api/jobs.ts";
import { backupRoutes } from "./api/backups.ts";
import { previewRoutes } from "./api/previews.ts";
import { openapiRoutes } from "./api/openapi.ts";
import { systemRoutes } from "./api/system.ts";
import { tlsAskRoutes } from "./api/tls-ask.ts";

export function createApp(deps: ApiDeps) {
  const api = new Elysia({ prefix: "/api/v1" })
    .use(accountRoutes(deps))
    .use(apiKeyRoutes(deps))
    .use(sessionRoutes(deps))
    .use(templateRoutes(deps))
    .use(tenantRoutes(deps))
    .use(deploymentRoutes(deps))
    .use(serviceRoutes(deps))
    .use(envRoutes(deps))
    .use(realtimeRoutes(deps))
    .use(domainRoutes(deps))
    .use(networkRuleRoutes(deps))
    .use(githubRoutes(deps))
    .use(registryRoutes(deps))
    .use(agentRoutes(deps)) // before nodeRoutes: /nodes/agent/state is not a node id
    .use(nodeRoutes(deps))
    .use(webhookRoutes(deps))
    .use(jobRoutes(deps))
    .use(backupRoutes(deps))
    .use(previewRoutes(deps));

  const root = new Elysia();
  // OIDC only: a token whose issuer keys are not loaded yet waits before Elysia runs. Without an issuer
  // there is no wrap at all, so no cost per request.
  if (deps.verifyJwt?.prepare) root.wrap(awaitJwtKeys(deps.verifyJwt.prepare));
  const app = root
    .use(metrics(deps))
    .use(envelope({ log: deps.log, maxBodyBytes: deps.config.maxBodyBytes }))
    .use(rateLimit(deps.limiter))
    .use(systemRoutes(deps))
    .use(tlsAskRoutes(deps))
    .use(api)
    .use(openapiRoutes()); // last: the document reads the whole route table at request time
  return registerApp(app);
}

export type App = ReturnType<typeof createApp>;
