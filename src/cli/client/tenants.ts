// `staxa tenants list|create|get|delete`, `staxa templates`, and resolving a tenant given by name or id.
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
      show(out, res?.data, () =>
        table(
          ["ID", "NAME", "STATUS", "URL"],
          (res?.data as any[]).map((t) => [t.id, t.name, t.status, t.url]),
        ),
      );
      return 0;
    }
    case "get": {
      flags.done();
      const res = await api.call("GET", `/tenants/${await resolveTenant(api, ref)}`);
      show(out, res?.data, () => fields(res!.data, VIEW_KEYS));
      return 0;
    }
    case "create": {
      if (!ref) throw new UsageError("NAME is required");
      const body = await createBody(api, ref, flags);
      const wait = flags.bool("wait");
      flags.done();
      const res = await api.call("POST", "/tenants", body);
      const t = res!.data;
      if (!wait) {
        show(
          out,
          t,
          () =>
            `created ${t.name} (${t.id}), status ${t.status}\n${t.url ? `url: ${t.url}\n` : ""}watch it with: staxa tenants get ${t.name}\n`,
        );
        return 0;
      }
      if (!out.json) out.write(`created ${t.name} (${t.id})\n`);
      const code = await followDeployment(api, out, t.id, undefined);
      if (code === 0 && !out.json && t.url) out.write(`url: ${t.url}\n`);
      return code;
    }
    case "delete": {
      const yes = flags.bool("yes") || flags.bool("y");
      flags.done();
      const id = await resolveTenant(api, ref);
      if (!yes && !(await confirmed(out, `Delete tenant ${ref} (${id}) with its containers, volumes and domains? [y/N] `))) {
        out.error(`not deleted: ${ref}\n`);
        return 1;
      }
      const res = await api.call("DELETE", `/tenants/${id}`);
      show(out, res?.data ?? { id }, () => `deleting ${ref} (${id})\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown tenants command "${sub ?? ""}" (list|create|get|delete)`);
  }
}

/** y/yes on a terminal; without one (a script, a pipe) there is nobody to ask: refuse rather than assume. */
async function confirmed(out: Out, question: string): Promise<boolean> {
  if (!out.ask) throw new UsageError("refusing to delete without confirmation: stdin is not a terminal; pass --yes");
  return /^y(es)?$/i.test((await out.ask(question)).trim());
}

/** POST /tenants body from the create flags: a repo, an image, or a catalog template (its source, port and env). */
async function createBody(api: ApiClient, name: string, flags: Flags): Promise<Record<string, unknown>> {
  const repo = flags.string("repo");
  const image = flags.string("image");
  const template = flags.string("template");
  if ([repo, image, template].filter((v) => v !== undefined).length !== 1)
    throw new UsageError("give exactly one of --repo, --image or --template");
  const body: Record<string, unknown> = { name, source_type: image ? "image" : "github" };
  if (repo) body.repo_url = repo;
  if (image) body.image_url = image;
  if (template) {
    // The reference's way: the template's own repo_url (or image), port and env. The appliance builds a catalog
    // repo_url from the source bundled in it, so this works without reaching GitHub.
    const tpl = (await api.call("GET", `/templates/${encodeURIComponent(template)}`))!.data as TemplateDetail;
    if (tpl.required_env?.length)
      throw new UsageError(
        `template ${tpl.id} needs ${tpl.required_env.join(", ")}: create it in the dashboard or with the API (env)`,
      );
    if (tpl.repo_url) body.repo_url = tpl.repo_url;
    else Object.assign(body, { source_type: "image", image_url: tpl.image });
    if (tpl.default_port) body.app_port = tpl.default_port;
    if (Object.keys(tpl.default_env ?? {}).length) body.env = tpl.default_env;
  }
  const optional: Array<[string, string, (v: string) => unknown]> = [
    ["branch", "branch", String],
    ["display-name", "display_name", String],
    ["port", "app_port", Number],
    ["size", "resource_size", String],
  ];
  for (const [flag, key, conv] of optional) {
    const v = flags.string(flag);
    if (v !== undefined) body[key] = conv(v);
  }
  return body;
}

interface TemplateDetail {
  id: string;
  name: string;
  framework: string;
  description: string;
  repo_url?: string;
  image?: string;
  default_env?: Record<string, string>;
  default_port?: number;
  required_env?: string[];
}

/** `staxa templates`: the catalog, for `tenants create --template`. */
export async function templatesCommand(api: ApiClient, out: Out, flags: Flags): Promise<number> {
  if (flags.positionals.length > 0) throw new UsageError(`unexpected argument "${flags.positionals[0]}"`);
  flags.done();
  const res = await api.call("GET", "/templates");
  const list = res!.data as TemplateDetail[];
  show(out, list, () =>
    table(
      ["ID", "NAME", "FRAMEWORK", "DESCRIPTION"],
      list.map((t) => [t.id, t.name, t.framework, t.description]),
    ),
  );
  return 0;
}
