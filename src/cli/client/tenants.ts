// `staxa tenants list|create|get|delete`, and resolving a tenant given by name or id.
import type { Flags } from "../args.ts";
import { UsageError } from "../args.ts";
import { ApiError, type ApiClient } from "./http.ts";
import { fields, show, table, type Out } from "./output.ts";
import { followDeployment } from "./deploy.ts";

/** A tenant id from `ten_…` or an exact tenant name. */
export async function resolveTenant(api: ApiClient, ref: string | undefined): Promise<string> {
  if (!ref) throw new UsageError("a tenant name or id is required");
  if (/^ten_[a-z0-9]+$/.test(ref)) return ref;
  const res = await api.call("GET", `/tenants?search=${encodeURIComponent(ref)}&limit=100`);
  const hit = (res?.data as Array<{ id: string; name: string }>).find((t) => t.name === ref);
  if (!hit) throw new ApiError(404, "not_found", `Tenant "${ref}" not found`);
  return hit.id;
}

const VIEW_KEYS = ["id", "name", "display_name", "status", "url", "branch", "repo_url", "created_at", "updated_at"];

export async function tenantsCommand(api: ApiClient, out: Out, sub: string | undefined, flags: Flags): Promise<number> {
  const [, ref] = flags.positionals;
  switch (sub) {
    case "list": {
      const status = flags.string("status");
      const limit = flags.string("limit") ?? "100";
      flags.done();
      const q = new URLSearchParams({ limit, ...(status ? { status } : {}) });
      const res = await api.call("GET", `/tenants?${q}`);
      show(out, res?.data, () => table(["ID", "NAME", "STATUS", "URL"], (res?.data as any[]).map((t) => [t.id, t.name, t.status, t.url])));
      return 0;
    }
    case "get": {
      flags.done();
      const res = await api.call("GET", `/tenants/${await resolveTenant(api, ref)}`);
      show(out, res?.data, () => fields(res!.data, VIEW_KEYS));
      return 0;
    }
    case "create": {
      if (!ref) throw new UsageError("usage: staxa tenants create NAME (--repo URL [--branch B] | --image IMAGE) [--port N] [--wait]");
      const repo = flags.string("repo");
      const image = flags.string("image");
      if (!!repo === !!image) throw new UsageError("give exactly one of --repo or --image");
      const body: Record<string, unknown> = { name: ref, source_type: repo ? "github" : "image" };
      if (repo) body.repo_url = repo;
      if (image) body.image_url = image;
      const optional: Array<[string, string, (v: string) => unknown]> = [["branch", "branch", String], ["display-name", "display_name", String], ["port", "app_port", Number], ["size", "resource_size", String]];
      for (const [flag, key, conv] of optional) {
        const v = flags.string(flag);
        if (v !== undefined) body[key] = conv(v);
      }
      const wait = flags.bool("wait");
      flags.done();
      const res = await api.call("POST", "/tenants", body);
      const t = res!.data;
      if (!wait) {
        show(out, t, () => `created ${t.name} (${t.id}), status ${t.status}\n${t.url ? `url: ${t.url}\n` : ""}watch it with: staxa tenants get ${t.name}\n`);
        return 0;
      }
      if (!out.json) out.write(`created ${t.name} (${t.id})\n`);
      return followDeployment(api, out, t.id, undefined);
    }
    case "delete": {
      flags.done();
      const id = await resolveTenant(api, ref);
      const res = await api.call("DELETE", `/tenants/${id}`);
      show(out, res?.data ?? { id }, () => `deleting ${ref} (${id})\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown tenants command "${sub ?? ""}" (list|create|get|delete)`);
  }
}
