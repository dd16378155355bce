// Samples every tenant container's resource usage into ctx.usage (one Docker list, then a stats and an inspect
// per container, a few at a time so a large host does not queue hundreds of calls on dockerd at once).
import type { Ctx } from "../context.ts";
import { nowIso } from "../../lib/ids.ts";
import { usageFromStats } from "../../runtime/stats.ts";
import type { ContainerInfo } from "../../runtime/types.ts";
import * as tenants from "../../store/tenants.ts";
import type { Sample } from "./store.ts";

const PARALLEL = 4;

/** One pass; returns how many containers were sampled. Containers of job runs and of unknown tenants are left out. */
export async function sampleUsage(ctx: Pick<Ctx, "runtime" | "db" | "now" | "usage" | "log">): Promise<number> {
  const stats = ctx.runtime.containerStats;
  if (!stats) return 0;
  const all = (await ctx.runtime.listContainers({ "staxa.managed": "1" })).filter(
    (c) => c.labels["staxa.tenant_id"] && !c.labels["staxa.job"] && c.labels["staxa.service"],
  );
  const pass: Array<{ tenantId: string; tenant: string; service: string; sample: Sample }> = [];
  const names = new Map<string, string | undefined>();
  const one = async (c: ContainerInfo) => {
    const tenantId = c.labels["staxa.tenant_id"];
    if (!names.has(tenantId)) names.set(tenantId, tenants.findById(ctx.db, tenantId)?.name);
    const tenant = names.get(tenantId);
    if (!tenant) return;
    const [raw, restarts] = await Promise.all([stats.call(ctx.runtime, c.id), ctx.runtime.restartCount?.(c.id)]);
    if (!raw) return;
    pass.push({
      tenantId,
      tenant,
      service: c.labels["staxa.service"],
      sample: { ...usageFromStats(raw), at: nowIso(ctx.now()), containerId: c.id, restarts: restarts ?? 0 },
    });
  };
  // One container per service (during a deploy the old and the new one both run briefly).
  const queue = newestPerService(all);
  const listed = new Map<string, Set<string>>();
  for (const c of queue) {
    const id = c.labels["staxa.tenant_id"];
    if (!listed.has(id)) listed.set(id, new Set());
    listed.get(id)!.add(c.labels["staxa.service"]);
  }
  const workers = Array.from({ length: Math.min(PARALLEL, queue.length) }, async () => {
    for (let c = queue.shift(); c; c = queue.shift())
      await one(c).catch((e) => ctx.log.warn("usage: sample failed", { container: c!.name, error: (e as Error).message }));
  });
  await Promise.all(workers);
  ctx.usage.record(pass, listed);
  return pass.length;
}

function newestPerService(cs: ContainerInfo[]): ContainerInfo[] {
  const by = new Map<string, ContainerInfo>();
  for (const c of cs) {
    const key = `${c.labels["staxa.tenant_id"]}/${c.labels["staxa.service"]}`;
    const prev = by.get(key);
    // A running container beats a stopped one (an old one left over, or a crash-looping one between restarts).
    if (!prev || (c.running && !prev.running)) by.set(key, c);
  }
  return [...by.values()];
}
