// `staxa env get|set|unset <tenant>`: set and unset change only the named keys (PATCH), so secret values the API
// masks are never read back and resent; `set --replace` replaces the whole environment (PUT).
import type { Flags } from "../args.ts";
import { UsageError } from "../args.ts";
import type { ApiClient } from "./http.ts";
import { show, type Out } from "./output.ts";
import { resolveTenant } from "./tenants.ts";

/** KEY=VALUE arguments; the value may contain "=". */
export function parseAssignments(args: string[]): Record<string, string> {
  if (args.length === 0) throw new UsageError("give at least one KEY=VALUE");
  const out: Record<string, string> = {};
  for (const a of args) {
    const i = a.indexOf("=");
    if (i <= 0) throw new UsageError(`"${a}" is not KEY=VALUE`);
    out[a.slice(0, i)] = a.slice(i + 1);
  }
  return out;
}

/** The request of `env set|unset`: PATCH with the named keys, or PUT of exactly them with --replace. */
export function envRequest(
  sub: "set" | "unset",
  args: string[],
  replace: boolean,
): { method: "PATCH" | "PUT"; body: Record<string, unknown> } {
  if (sub === "unset") {
    if (replace) throw new UsageError("--replace is for env set");
    if (args.length === 0) throw new UsageError("give at least one KEY to unset");
    return { method: "PATCH", body: { unset: args } };
  }
  const set = parseAssignments(args);
  return replace ? { method: "PUT", body: set } : { method: "PATCH", body: { set } };
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
    if (!ref) throw new UsageError("a tenant name or id is required");
    const req = envRequest(sub, rest, replace); // usage problems before any call
    const id = await resolveTenant(api, ref);
    const res = await api.call(req.method, `/tenants/${id}/env`, req.body);
    const list = res!.data as Array<{ key: string; value: string }>;
    const deploys = (res!.meta.deployment_ids as string[] | undefined) ?? [];
    const what =
      sub === "unset" ? `${rest.length} variable(s) unset` : `${Object.keys(req.body.set ?? req.body).length} variable(s) set`;
    show(
      out,
      { env: list, deployment_ids: deploys },
      () =>
        `${what}; ${list.length} in total; ${deploys.length ? `redeploying: ${deploys.join(", ")}` : "nothing changed, no redeploy"}\n`,
    );
    return 0;
  }
  throw new UsageError(`unknown env command "${sub ?? ""}" (get|set|unset)`);
}
