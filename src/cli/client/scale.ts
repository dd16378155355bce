// `staxa scale <tenant> <service> <n>`: sets a service's replicas (PATCH, no rebuild); --wait follows until the
// appliance records n replicas serving.
import type { Flags } from "../args.ts";
import { UsageError } from "../args.ts";
import type { ApiClient } from "./http.ts";
import { show, type Out } from "./output.ts";
import { resolveTenant } from "./tenants.ts";

interface Service {
  name: string;
  replicas: number;
  replicas_running: number;
}

/** The replica count argument: a whole number (the appliance checks the range and names `replicas`). */
export function replicasArg(v: string | undefined): number {
  if (v === undefined || !/^\d+$/.test(v)) throw new UsageError("give the number of replicas, e.g. staxa scale acme web 3");
  return Number(v);
}

export async function scaleCommand(api: ApiClient, out: Out, flags: Flags): Promise<number> {
  const [ref, service, count] = flags.positionals;
  if (!service) throw new UsageError("give the tenant and the service, e.g. staxa scale acme web 3");
  const replicas = replicasArg(count);
  const wait = flags.bool("wait");
  flags.done();
  const tenantId = await resolveTenant(api, ref);
  const path = `/tenants/${tenantId}/services/${encodeURIComponent(service)}`;
  let s = (await api.call("PATCH", path, { replicas }))!.data as Service;
  for (let i = 0; wait && i < 600 && s.replicas_running !== s.replicas; i++) {
    await Bun.sleep(500);
    const list = (await api.call("GET", `/tenants/${tenantId}/services`))!.data as Service[];
    s = list.find((x) => x.name === service) ?? s;
  }
  show(out, s, () => `${s.name}: ${s.replicas} replica(s) wanted, ${s.replicas_running} serving\n`);
  return wait && s.replicas_running !== s.replicas ? 1 : 0;
}
