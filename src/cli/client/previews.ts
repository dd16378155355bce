// `staxa previews get|set|enable|disable|list <tenant> …`: pull request previews of a tenant.
import type { Flags } from "../args.ts";
import { UsageError } from "../args.ts";
import type { ApiClient } from "./http.ts";
import { show, table, type Out } from "./output.ts";
import { resolveTenant } from "./tenants.ts";

interface Settings {
  enabled: boolean;
  allow_forks: boolean;
  ttl_hours: number;
  env_overrides: Array<{ key: string; value: string | null }>;
  watches: Array<{ repo: string; branch: string }>;
  limit: number;
}
interface Preview {
  name: string;
  status: string;
  pr_number: number;
  head_ref: string;
  head_sha: string;
  fork: boolean;
  url: string;
  expires_at: string;
}

const boolFlag = (flags: Pick<Flags, "string">, name: string): boolean | undefined => {
  const v = flags.string(name);
  if (v === undefined) return undefined;
  if (v !== "true" && v !== "false") throw new UsageError(`--${name} is true or false`);
  return v === "true";
};

/** The PUT body of `previews set`: flags, KEY=VALUE overrides and --remove KEY,…; env overrides given replace all. */
export function previewSettingsBody(flags: Pick<Flags, "string" | "bool">, pairs: string[]): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const enabled = boolFlag(flags, "enabled");
  const forks = boolFlag(flags, "allow-forks");
  const ttl = flags.string("ttl-hours");
  const remove = flags.string("remove");
  const clear = flags.bool("clear-env");
  if (enabled !== undefined) body.enabled = enabled;
  if (forks !== undefined) body.allow_forks = forks;
  if (ttl !== undefined) {
    if (!/^\d+$/.test(ttl)) throw new UsageError("--ttl-hours is a number of hours");
    body.ttl_hours = Number(ttl);
  }
  const env: Record<string, string | null> = {};
  for (const p of pairs) {
    const eq = p.indexOf("=");
    if (eq <= 0) throw new UsageError(`"${p}" is not KEY=VALUE`);
    env[p.slice(0, eq)] = p.slice(eq + 1);
  }
  for (const k of remove ? remove.split(",").filter(Boolean) : []) env[k] = null;
  if (clear || Object.keys(env).length) body.env_overrides = env;
  if (Object.keys(body).length === 0)
    throw new UsageError("nothing to set: give --enabled, --allow-forks, --ttl-hours or KEY=VALUE");
  return body;
}

const settingsText = (s: Settings) =>
  [
    `previews ${s.enabled ? "on" : "off"}; forks ${s.allow_forks ? "allowed" : "not allowed"}; deleted after ${s.ttl_hours} h without a new commit`,
    `pull requests to: ${s.watches.map((w) => `${w.repo}@${w.branch}`).join(", ") || "- (no GitHub-sourced service)"}`,
    `env overrides: ${s.env_overrides.map((e) => (e.value === null ? `-${e.key}` : `${e.key}=${e.value}`)).join(" ") || "-"}`,
  ].join("\n") + "\n";

export async function previewsCommand(api: ApiClient, out: Out, sub: string | undefined, flags: Flags): Promise<number> {
  const [, ref, ...rest] = flags.positionals;
  const path = async () => `/tenants/${await resolveTenant(api, ref)}/previews`;
  switch (sub) {
    case "get":
    case "list": {
      flags.done();
      if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
      if (sub === "get") {
        const s = (await api.call("GET", await path()))!.data as Settings;
        show(out, s, () => settingsText(s));
        return 0;
      }
      const rows = (await api.call("GET", `${await path()}/list`))!.data as Preview[];
      show(out, rows, () =>
        table(
          ["PR", "NAME", "STATUS", "HEAD", "FORK", "EXPIRES", "URL"],
          rows.map((p) => [
            `#${p.pr_number}`,
            p.name,
            p.status,
            `${p.head_ref}@${p.head_sha.slice(0, 7)}`,
            p.fork,
            p.expires_at,
            p.url,
          ]),
        ),
      );
      return 0;
    }
    case "set":
    case "enable":
    case "disable": {
      const body = sub === "set" ? previewSettingsBody(flags, rest) : { enabled: sub === "enable" };
      flags.done();
      if (sub !== "set" && rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
      const s = (await api.call("PUT", await path(), body))!.data as Settings;
      show(out, s, () => settingsText(s));
      return 0;
    }
    default:
      throw new UsageError(`unknown previews command "${sub ?? ""}" (get|set|enable|disable|list)`);
  }
}
