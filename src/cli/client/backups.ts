// `staxa backups list|create|restore|delete|schedule <tenant> …`: a tenant's volume backups. A restore replaces the
// service's data, so it asks y/N on a terminal (or takes --yes), as deleting a tenant does.
import type { Flags } from "../args.ts";
import { UsageError } from "../args.ts";
import type { ApiClient } from "./http.ts";
import { fields, show, table, type Out } from "./output.ts";
import { resolveTenant } from "./tenants.ts";

interface Backup {
  id: string;
  service: string;
  kind: string;
  method: string;
  status: string;
  size_bytes: number | null;
  created_at: string;
  reason: string | null;
  restore_status: string | null;
}

const SCHEDULE_KEYS = ["cron", "keep", "next_run_at", "updated_at"];

async function confirmed(out: Out, flags: Flags, question: string): Promise<boolean> {
  if (flags.bool("yes") || flags.bool("y")) return true;
  if (!out.ask) throw new UsageError("refusing to restore without confirmation: stdin is not a terminal; pass --yes");
  return /^y(es)?$/i.test((await out.ask(question)).trim());
}

export async function backupsCommand(api: ApiClient, out: Out, sub: string | undefined, flags: Flags): Promise<number> {
  const [, ref, backupId, ...rest] = flags.positionals;
  switch (sub) {
    case "list": {
      flags.done();
      const rows = (await api.call("GET", `/tenants/${await resolveTenant(api, ref)}/backups`))!.data as Backup[];
      show(out, rows, () =>
        table(
          ["ID", "SERVICE", "KIND", "METHOD", "STATUS", "SIZE", "CREATED", "RESTORE", "REASON"],
          rows.map((b) => [b.id, b.service, b.kind, b.method, b.status, b.size_bytes, b.created_at, b.restore_status, b.reason]),
        ),
      );
      return 0;
    }
    case "create": {
      const service = flags.string("service");
      flags.done();
      const rows = (await api.call(
        "POST",
        `/tenants/${await resolveTenant(api, ref)}/backups`,
        service ? { service } : undefined,
      ))!.data as Backup[];
      show(out, rows, () =>
        rows.map((b) => `queued ${b.id} (${b.service}, ${b.method}); see: staxa backups list ${ref}\n`).join(""),
      );
      return 0;
    }
    case "restore": {
      if (!backupId) throw new UsageError("usage: staxa backups restore TENANT BACKUP_ID [--yes]");
      const id = await resolveTenant(api, ref);
      const ok = await confirmed(out, flags, `Restore ${backupId} into ${ref}? The service's current data is replaced. [y/N] `);
      flags.done();
      if (!ok) {
        out.error(`not restored: ${backupId}\n`);
        return 1;
      }
      const b = (await api.call("POST", `/tenants/${id}/backups/${backupId}/restore`))!.data as Backup;
      show(out, b, () => `restoring ${b.id} into ${b.service}; see: staxa backups list ${ref}\n`);
      return 0;
    }
    case "delete": {
      flags.done();
      if (!backupId) throw new UsageError("usage: staxa backups delete TENANT BACKUP_ID");
      await api.call("DELETE", `/tenants/${await resolveTenant(api, ref)}/backups/${backupId}`);
      show(out, { id: backupId, deleted: true }, () => `deleted ${backupId}\n`);
      return 0;
    }
    case "schedule": {
      const cron = flags.string("cron");
      const keep = flags.string("keep");
      const off = flags.bool("off");
      flags.done();
      if (backupId || rest.length) throw new UsageError(`unexpected argument "${backupId ?? rest[0]}"`);
      if (keep !== undefined && !/^\d+$/.test(keep)) throw new UsageError("--keep is a number of backups");
      const path = `/tenants/${await resolveTenant(api, ref)}/backups/schedule`;
      if (off) {
        await api.call("DELETE", path);
        show(out, { deleted: true }, () => "backup schedule removed\n");
        return 0;
      }
      const body = cron ? { cron, ...(keep ? { keep: Number(keep) } : {}) } : undefined;
      const s = (await api.call(body ? "PUT" : "GET", path, body))!.data as Record<string, unknown>;
      show(out, s, () => fields(s, SCHEDULE_KEYS));
      return 0;
    }
    default:
      throw new UsageError(`unknown backups command "${sub ?? ""}" (list|create|restore|delete|schedule)`);
  }
}
