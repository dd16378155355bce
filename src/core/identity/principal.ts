// Who is calling: resolved once per request by the auth plugin, passed to core explicitly.
export type Mode = "live" | "test";

export interface Principal {
  providerId: string;
  mode: Mode;
  scopes: string[];
  via: "key" | "jwt" | "session";
  keyId?: string;
  userId?: string;
}

/** The scopes a key can carry; "*" grants all. `resource:read` is implied by `resource:write`. */
export const SCOPES = [
  "*",
  "account:read",
  "account:write",
  "keys:read",
  "keys:write",
  "tenants:read",
  "tenants:write",
  "deployments:read",
  "deployments:write",
  "env:read",
  "env:write",
  "domains:read",
  "domains:write",
  "network:read",
  "network:write",
  "registries:read",
  "registries:write",
  "github:read",
  "github:write",
  "webhooks:read",
  "webhooks:write",
  "templates:read",
  // The cluster's servers: an operator's, not a tenant's; give them only to the appliance operator's keys.
  "nodes:read",
  "nodes:write",
] as const;
export type Scope = (typeof SCOPES)[number];

/** True when `granted` allows `needed` (wildcard, exact, or write implying read). */
export function hasScope(granted: readonly string[], needed: Scope): boolean {
  if (granted.includes("*") || granted.includes(needed)) return true;
  if (needed.endsWith(":read")) return granted.includes(needed.replace(/:read$/, ":write"));
  return false;
}
