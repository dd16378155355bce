// `staxa env get <tenant>` and `staxa env set <tenant> KEY=VALUE...` (read, merge, write back the whole set).
import type { Flags } from "../args.ts";
import { UsageError } from "../args.ts";
import { ApiError, type ApiClient } from "./http.ts";
import { show, type Out } from "./output.ts";
import { resolveTenant } from "./tenants.ts";

const MASK = "****";

/** KEY=VALUE arguments; the value may contain "=". */
export function parseAssignments(args: string[]): Record<string, string> {
  if (args.length === 0) throw new UsageError("usage: staxa env set TENANT KEY=VALUE...");
  const out: Record<string, string> = {};
  for (const a of args) {
    const i = a.indexOf("=");
    if (i <= 0) throw new UsageError(`"${a}" is not KEY=VALUE`);
    out[a.slice(0, i)] = a.slice(i + 1);
  }
  return out;
}

export async function envCommand(api: ApiClient, out: Out, sub: string | undefined, flags: Flags): Promise<number> {
  const [, ref, ...rest] = flags.positionals;
  if (sub === "get") {
    flags.done();
    const res = await api.call("GET", `/tenants/${await resolveTenant(api, ref)}/env`);
    const list = res!.data as Array<{ key: string; value: string }>;
    show(out, list, () => list.map((e) => `${e.key}=${e.value}\n`).join(""));
    return 0;
  }
  if (sub === "set" || sub === "unset") {
    const replace = flags.bool("replace");
    flags.done();
    const id = await resolveTenant(api, ref);
    const changes = sub === "set" ? parseAssignments(rest) : Object.fromEntries(rest.map((k) => [k, undefined]));
    if (sub === "unset" && rest.length === 0) throw new UsageError("usage: staxa env unset TENANT KEY...");
    const current = replace ? [] : ((await api.call("GET", `/tenants/${id}/env`))!.data as Array<{ key: string; value: string }>);
    const merged: Record<string, string> = {};
    for (const e of current) merged[e.key] = e.value;
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined) delete merged[k];
      else merged[k] = v;
    }
    // The API masks secret values on read; writing "****" back would destroy them, so refuse instead.
    const masked = Object.keys(merged).filter((k) => merged[k] === MASK && changes[k] === undefined);
    if (masked.length) {
      throw new ApiError(0, "masked_values", `cannot keep masked value(s) of ${masked.join(", ")}: the API never returns secrets. Pass them again (KEY=VALUE) or use --replace to set only the given keys.`);
    }
    const res = await api.call("PUT", `/tenants/${id}/env`, merged);
    const list = res!.data as Array<{ key: string; value: string }>;
    show(out, { env: list, deployment_ids: res!.meta.deployment_ids ?? [] }, () => `${list.length} variable(s) set; redeploying: ${(res!.meta.deployment_ids as string[] | undefined)?.join(", ") || "nothing"}\n`);
    return 0;
  }
  throw new UsageError(`unknown env command "${sub ?? ""}" (get|set|unset)`);
}
