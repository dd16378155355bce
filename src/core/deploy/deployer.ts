// The in-process deployment engine of one appliance: queue, build slots, health probe, cancellation.
// One per context (ctx.deployer), built by the composition root: every caller over one store shares its queue,
// or deploys of a tenant could interleave.
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

/** A fresh engine with `buildSlots` concurrent builds; `onDepth` hears the queue's depth (metrics). */
export function createDeployer(buildSlots: number, onDepth?: (depth: number) => void): Deployer {
  return { queue: new DeployQueue(buildSlots, onDepth), probe: httpProbe, controllers: new Map() };
}

/** Replaces parts of the engine (tests inject a probe). */
export function configureDeployer(ctx: Pick<Ctx, "deployer">, over: Partial<Deployer>): Deployer {
  return Object.assign(ctx.deployer, over);
}

/** The abort signal of a tenant's current work, created on demand. */
export function signalFor(ctx: Pick<Ctx, "deployer">, tenantId: string): AbortSignal {
  const { controllers } = ctx.deployer;
  let c = controllers.get(tenantId);
  if (!c || c.signal.aborted) controllers.set(tenantId, (c = new AbortController()));
  return c.signal;
}

export function cancelTenantWork(ctx: Pick<Ctx, "deployer">, tenantId: string, reason: string): void {
  ctx.deployer.controllers.get(tenantId)?.abort(new Error(reason));
}

/** Resolves when no deployment or cleanup work is pending (tests, shutdown). */
export function idle(ctx: Pick<Ctx, "deployer">): Promise<void> {
  return ctx.deployer.queue.idle();
}
