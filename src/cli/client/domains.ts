// `staxa domains list|add|verify|delete <tenant> ...`: custom domains and their DNS verification.
import type { Flags } from "../args.ts";
import { UsageError } from "../args.ts";
import { ApiError, type ApiClient } from "./http.ts";
import { show, table, type Out } from "./output.ts";
import { resolveTenant } from "./tenants.ts";

interface Domain {
  id: string;
  domain: string;
  is_primary: boolean;
  verified: boolean;
  ssl_status: string;
}

/** A domain id from `dom_…` or the domain name itself. */
async function resolveDomain(api: ApiClient, tenantId: string, ref: string | undefined): Promise<string> {
  if (!ref) throw new UsageError("a domain (name or dom_ id) is required");
  if (/^dom_[a-z0-9]+$/.test(ref)) return ref;
  const res = await api.call("GET", `/tenants/${tenantId}/domains`);
  const hit = (res!.data.domains as Domain[]).find((d) => d.domain === ref.toLowerCase());
  if (!hit) throw new ApiError(404, "not_found", `Domain "${ref}" not found`);
  return hit.id;
}

export async function domainsCommand(api: ApiClient, out: Out, sub: string | undefined, flags: Flags): Promise<number> {
  const [, ref, domain] = flags.positionals;
  const primary = flags.bool("primary");
  const service = flags.string("service");
  flags.done();
  const id = await resolveTenant(api, ref);
  switch (sub) {
    case "list": {
      const res = await api.call("GET", `/tenants/${id}/domains`);
      const d = res!.data as { domains: Domain[]; server_ip: string };
      show(
        out,
        d,
        () =>
          table(
            ["ID", "DOMAIN", "PRIMARY", "VERIFIED", "SSL"],
            d.domains.map((x) => [x.id, x.domain, x.is_primary, x.verified, x.ssl_status]),
          ) + `\nPoint an A record at ${d.server_ip}\n`,
      );
      return 0;
    }
    case "add": {
      if (!domain) throw new UsageError("usage: staxa domains add TENANT DOMAIN [--primary] [--service NAME]");
      const res = await api.call("POST", `/tenants/${id}/domains`, {
        domain,
        ...(primary ? { is_primary: true } : {}),
        ...(service ? { service_id: service } : {}),
      });
      show(
        out,
        res!.data,
        () =>
          `added ${res!.data.domain} (${res!.data.id}); create its DNS record, then: staxa domains verify ${ref} ${res!.data.domain}\n`,
      );
      return 0;
    }
    case "verify": {
      const domId = await resolveDomain(api, id, domain);
      const res = await api.call("POST", `/tenants/${id}/domains/${domId}/verify`);
      const d = res!.data as Domain;
      show(out, d, () => `${d.domain}: ${d.verified ? "verified" : "not verified"}, ssl ${d.ssl_status}\n`);
      return d.verified ? 0 : 1;
    }
    case "delete": {
      const domId = await resolveDomain(api, id, domain);
      await api.call("DELETE", `/tenants/${id}/domains/${domId}`);
      show(out, { id: domId, deleted: true }, () => `deleted ${domain}\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown domains command "${sub ?? ""}" (list|add|verify|delete)`);
  }
}
