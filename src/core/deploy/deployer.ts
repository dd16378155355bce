// The in-process deployment engine of one appliance: queue, build slots, health probe, cancellation.
// Held per database (a WeakMap): the API's deps and the composition root's ctx are different objects
// over one store, and must share one queue, or deploys of a tenant could interleave.
import type { Ctx } from "../context.ts";
import { DeployQueue } from "./queue.ts";
import { httpProbe, type Probe } from "./health.ts";

export interface Deployer {
  queue: DeployQueue;
  probe: Probe;
  /** Aborts the running work of a tenant (delete while building). */
  controllers: Map<string, AbortController>;
  /** Health check poll budget override in ms (tests); else config.healthTimeoutSec. */
  healthTimeoutMs?: number;
}

const deployers = new WeakMap<object, Deployer>();

export function deployerFor(ctx: Ctx): Deployer {
  let d = deployers.get(ctx.db);
  if (!d) {
    d = { queue: new DeployQueue(ctx.config.buildConcurrency), probe: httpProbe, controllers: new Map() };
    deployers.set(ctx.db, d);
  }
  return d;
}

/** Replaces parts of the engine (tests inject a probe). */
export function configureDeployer(ctx: Ctx, over: Partial<Deployer>): Deployer {
  const d = Object.assign(deployerFor(ctx), over);
  return d;
}

/** The abort signal of a tenant's current work, created on demand. */
export function signalFor(ctx: Ctx, tenantId: string): AbortSignal {
  const d = deployerFor(ctx);
  let c = d.controllers.get(tenantId);
  if (!c || c.signal.aborted) d.controllers.set(tenantId, (c = new AbortController()));
  return c.signal;
}

export function cancelTenantWork(ctx: Ctx, tenantId: string, reason: string): void {
  deployerFor(ctx).controllers.get(tenantId)?.abort(new Error(reason));
}

/** Resolves when no deployment or cleanup work is pending (tests, shutdown). */
export function idle(ctx: Ctx): Promise<void> {
  return deployerFor(ctx).queue.idle();
}
