// bench/scale helpers: tenant rows written straight into the store, and live tenants (a busybox httpd container on
// its own pool subnet, recorded as the pipeline records a live service) without waiting on the pipeline per tenant.
import type { Ctx } from "../../src/core/context.ts";
import * as tenants from "../../src/store/tenants.ts";
import * as services from "../../src/store/services.ts";
import { newId, nowIso } from "../../src/lib/ids.ts";
import { candidateSpec } from "../../src/core/deploy/container-plan.ts";
import { provisionNetwork } from "../../src/core/network/subnets.ts";
import { routeFor } from "../../src/core/domains/routes.ts";
import type { Route } from "../../src/proxy/types.ts";

export const IMAGE = "staxa-test/busybox:latest";
const SERVE = ["sh", "-c", "trap 'exit 0' TERM; mkdir -p /w && hostname > /w/index.html && httpd -f -p 3000 -h /w & wait"];

/** Inserts `count` ready tenants named `<prefix>-<i>` with one service each, in one transaction; returns their rows. */
export function insertTenants(
  ctx: Ctx,
  providerId: string,
  prefix: string,
  from: number,
  count: number,
): Array<{ tenant: tenants.TenantRow; service: services.ServiceRow }> {
  const out: Array<{ tenant: tenants.TenantRow; service: services.ServiceRow }> = [];
  ctx.db.transaction(() => {
    for (let i = from; i < from + count; i++) {
      const now = nowIso(new Date(Date.UTC(2030, 0, 1) + i * 1000));
      const tenant: tenants.TenantRow = {
        id: newId("ten"),
        provider_id: providerId,
        mode: "live",
        name: `${prefix}-${i}`,
        display_name: null,
        status: "ready",
        status_reason: null,
        source_type: "image",
        repo_url: null,
        branch: "main",
        image_url: IMAGE,
        resource_size: "small",
        app_port: 3000,
        egress_mode: "open",
        env_enc: null,
        template_id: null,
        created_at: now,
        updated_at: now,
      };
      const service: services.ServiceRow = {
        id: newId("svc"),
        tenant_id: tenant.id,
        name: "web",
        source_type: "image",
        repo_url: null,
        branch: "main",
        commit_sha: null,
        image_url: IMAGE,
        registry_id: null,
        port: 3000,
        is_primary: 1,
        is_routable: 1,
        resource_size: "small",
        env_enc: null,
        priority: 0,
        depends_on: "[]",
        volumes: "[]",
        healthcheck: null,
        command: JSON.stringify(SERVE),
        build_context: null,
        status: "running",
        current_deployment_id: null,
        container_id: null,
        container_ip: null,
        live_port: null,
        live_image: null,
        replicas: 1,
        created_at: now,
        updated_at: now,
      };
      tenants.insert(ctx.db, tenant);
      services.insert(ctx.db, service);
      out.push({ tenant, service });
    }
  })();
  return out;
}

/** Starts each tenant's container on its own network and records it live; `width` at a time. Returns the routes. */
export async function startLive(
  ctx: Ctx,
  rows: Array<{ tenant: tenants.TenantRow; service: services.ServiceRow }>,
  width: number,
): Promise<Route[]> {
  const routes: Route[] = [];
  let next = 0;
  const imageId = (await ctx.runtime.findImage(IMAGE))!;
  const one = async ({ tenant, service }: (typeof rows)[number]) => {
    await provisionNetwork(ctx, tenant);
    const spec = candidateSpec({ tenant, service, deploymentId: newId("dep"), image: imageId, env: {}, port: 3000 });
    const c = await ctx.runtime.startContainer(spec);
    const ip = c.ip ?? (await ctx.runtime.inspectContainer(c.id))!.ip!;
    services.update(ctx.db, service.id, {
      container_id: c.id,
      container_ip: ip,
      live_port: 3000,
      live_image: imageId,
      updated_at: nowIso(),
    });
    routes.push(routeFor(ctx, tenant, service, `${ip}:3000`));
  };
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < rows.length) await one(rows[next++]!);
    }),
  );
  return routes;
}
