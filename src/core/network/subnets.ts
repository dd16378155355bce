// Tenant networks on subnets of the appliance's own pool (STAXA_TENANT_SUBNET_POOL): Docker's default pools hold
// about 30 networks. Allocated when the tenant is created, its network made on them, freed with the tenant row.
import type { Ctx } from "../context.ts";
import type { TenantRow } from "../../store/tenants.ts";
import * as subnets from "../../store/subnets.ts";
import * as tenants from "../../store/tenants.ts";
import { AppError, Unprocessable } from "../../lib/errors.ts";
import { DOCKER_DEFAULT_POOLS, formatCidr, overlaps, parseCidr, type Cidr } from "../../lib/cidr.ts";
import { labels, networkName } from "../resources.ts";

/** Docker answering "overlaps" this many times in a row means something else is wrong: stop and say so. */
const MAX_TAKEN = 16;

function poolOf(ctx: Pick<Ctx, "config">): { pool: Cidr; prefix: number } {
  return { pool: parseCidr(ctx.config.tenantSubnetPool)!, prefix: ctx.config.tenantSubnetPrefix };
}

/** The tenant's subnet, allocated on first use. Throws Unprocessable (never a 500) when the pool has no free block. */
export function tenantSubnet(ctx: Pick<Ctx, "config" | "db">, tenantId: string): string {
  const { pool, prefix } = poolOf(ctx);
  const got = subnets.allocate(ctx.db, tenantId, pool, prefix);
  if (got) return got;
  const u = subnets.usage(ctx.db, pool, prefix);
  throw new Unprocessable(
    "subnet_pool_exhausted",
    `No free /${prefix} subnet left in STAXA_TENANT_SUBNET_POOL ${formatCidr(pool)}: ${u.held} held by tenants, ${u.skipped} skipped ` +
      `(host routes or other Docker networks overlap them), ${u.total} in all. Widen the pool or shorten STAXA_TENANT_SUBNET_PREFIX.`,
    { pool: formatCidr(pool), prefix, held: u.held, skipped: u.skipped, total: u.total },
  );
}

/**
 * Creates the tenant's network on its subnet (or finds it). A block Docker says another network overlaps is
 * skipped and the next one tried. A network made before the pool existed keeps its subnet; the block goes back.
 */
export async function provisionNetwork(ctx: Ctx, tenant: Pick<TenantRow, "id" | "name">): Promise<void> {
  for (let taken = 0; ; taken++) {
    const subnet = tenantSubnet(ctx, tenant.id);
    try {
      const actual = await ctx.runtime.ensureNetwork(networkName(tenant.name), labels(tenant), subnet);
      if (actual && actual !== subnet) subnets.release(ctx.db, tenant.id);
      return;
    } catch (e) {
      if (!(e instanceof AppError && e.code === "subnet_taken") || taken >= MAX_TAKEN) throw e;
      subnets.reserve(ctx.db, subnet, "another Docker network overlaps it");
      // Another appliance on this engine (or anything else) made networks in the pool since start-up: learn them all
      // from one listing, or a store that starts after it would meet them one refusal at a time, past MAX_TAKEN.
      if (taken === 0) await recoverSubnets(ctx);
    }
  }
}

/**
 * Start-up: every staxa network's subnet is read back from Docker (one listing), and blocks overlapping a host
 * route or a network this store does not own are skipped until the next start. Returns what was skipped.
 */
export async function recoverSubnets(ctx: Ctx): Promise<string[]> {
  const { runtime } = ctx;
  if (!runtime.listNetworks) return [];
  const { pool, prefix } = poolOf(ctx);
  const [nets, routes] = await Promise.all([runtime.listNetworks(), runtime.hostRoutes?.() ?? []]);
  const ours: subnets.Observed["ours"] = [];
  const foreign: subnets.Observed["foreign"] = routes.map((cidr) => ({ cidr, reason: `host route ${cidr}` }));
  for (const n of nets) {
    if (!n.subnet) continue;
    const owner = n.labels["staxa.managed"] === "1" ? tenants.findById(ctx.db, n.labels["staxa.tenant_id"] ?? "") : undefined;
    if (owner && networkName(owner.name) === n.name) ours.push({ tenantId: owner.id, subnet: n.subnet });
    else foreign.push({ cidr: n.subnet, reason: `Docker network ${n.name} (${n.subnet})` });
  }
  subnets.recover(ctx.db, pool, prefix, { ours, foreign });
  const skipped = foreign
    .filter((f) => {
      const c = parseCidr(f.cidr);
      return c && overlaps(c, pool);
    })
    .map((f) => f.reason);
  if (skipped.length)
    ctx.log.warn("tenant subnet pool: blocks overlapping these are skipped", {
      pool: formatCidr(pool),
      overlaps: skipped.slice(0, 20),
      count: skipped.length,
    });
  if (DOCKER_DEFAULT_POOLS.some((d) => overlaps(d, pool)))
    ctx.log.warn(
      "STAXA_TENANT_SUBNET_POOL overlaps Docker's default address pools; other networks on this host will compete for it",
      { pool: formatCidr(pool) },
    );
  return skipped;
}
