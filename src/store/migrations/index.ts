// The numbered migrations, bundled as text so the compiled binary carries them.
// Add a file NNN_name.sql and one line here; never edit a migration that has shipped.
import m001 from "./001_init.sql" with { type: "text" };
import m060 from "./060_service_build_context.sql" with { type: "text" };
import m080 from "./080_domains_tenant_index.sql" with { type: "text" };
import m090 from "./090_live_state.sql" with { type: "text" };
import m100 from "./100_domain_claims.sql" with { type: "text" };
import m110 from "./110_proxy_routes.sql" with { type: "text" };
import m120 from "./120_scale.sql" with { type: "text" };
import m140 from "./140_jobs.sql" with { type: "text" };
import m150 from "./150_backups.sql" with { type: "text" };
import m160 from "./160_previews.sql" with { type: "text" };
import m170 from "./170_replicas.sql" with { type: "text" };
import m190 from "./190_tenant_list_order.sql" with { type: "text" };

export const MIGRATIONS: Array<{ version: number; name: string; sql: string }> = [
  { version: 1, name: "init", sql: m001 },
  { version: 60, name: "service_build_context", sql: m060 },
  { version: 80, name: "domains_tenant_index", sql: m080 },
  { version: 90, name: "live_state", sql: m090 },
  { version: 100, name: "domain_claims", sql: m100 },
  { version: 110, name: "proxy_routes", sql: m110 },
  { version: 120, name: "scale", sql: m120 },
  { version: 140, name: "jobs", sql: m140 },
  { version: 150, name: "backups", sql: m150 },
  { version: 160, name: "previews", sql: m160 },
  { version: 170, name: "replicas", sql: m170 },
  { version: 190, name: "tenant_list_order", sql: m190 },
];
