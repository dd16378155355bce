// Pure: how a service is backed up and restored, as data. Postgres is dumped by its own tools in its running
// container (consistent while it serves); any other volume is tarred by a helper container while the service's
// container is stopped. Every command is an argv; values reach programs as env or one argv element, never a shell.
import { imageBaseName } from "../../lib/image-ref.ts";
import type { BackupMethod } from "../../store/backups.ts";
import type { HelperSpec, VolumeMount } from "../../runtime/types.ts";

/** Images whose data is dumped with pg_dump (Postgres and the images built on it). */
export const POSTGRES_IMAGES = new Set(["postgres", "postgresql", "postgis", "timescaledb"]);

/** A command run in the service's container (docker exec); `part` names what its stdout becomes in the file. */
export interface ExecStep {
  argv: string[];
  env: Record<string, string>;
  /** SQL fed on stdin (restore steps that read from the backup get the part's bytes instead). */
  stdin?: string;
}

export const isPostgres = (image: string | null): boolean => !!image && POSTGRES_IMAGES.has(imageBaseName(image));

/**
 * What a backup of the service does: a dump when it is Postgres and running; a tar of its volumes when it has
 * any; else nothing to back up (a stopped Postgres without a volume keeps no data).
 */
export function methodFor(s: { image: string | null; volumes: VolumeMount[]; running: boolean }): BackupMethod | undefined {
  if (isPostgres(s.image) && s.running) return "pg_dump";
  if (s.volumes.length) return "volume_tar";
  return undefined;
}

/** The role dumps and restores connect as: the image's POSTGRES_USER (the official image's superuser). */
export const pgUser = (env: Record<string, string>): string => env.POSTGRES_USER || "postgres";

// PGUSER and PGDATABASE in the env, not -U/-d: a database name given to -d is parsed as a connection string.
const pgEnv = (user: string, db: string) => ({ PGUSER: user, PGDATABASE: db });
const PSQL = ["psql", "-X", "-q", "--no-password"];

/** Lists the databases to dump, as one JSON array on stdout. */
export function pgListDatabases(user: string): ExecStep {
  return {
    argv: [
      ...PSQL,
      "-tA",
      "-v",
      "ON_ERROR_STOP=1",
      "-c",
      "SELECT coalesce(json_agg(datname ORDER BY datname), '[]') FROM pg_database WHERE datallowconn AND NOT datistemplate",
    ],
    env: pgEnv(user, "postgres"),
  };
}

/** Parts of a Postgres backup: the roles first, then one plain-SQL dump per database that drops what it recreates. */
export function pgDumpSteps(user: string, databases: string[]): Array<ExecStep & { part: string }> {
  return [
    { part: "globals.sql", argv: ["pg_dumpall", "--globals-only", "--no-password"], env: pgEnv(user, "postgres") },
    ...databases.map((db) => ({
      part: `db/${db}`,
      argv: ["pg_dump", "--clean", "--if-exists", "--no-password"],
      env: pgEnv(user, db),
    })),
  ];
}

const ENSURE_DB = `SELECT format('CREATE DATABASE %I', :'db') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \\gexec\n`;

/**
 * Restoring one part: the roles are replayed tolerating "already exists"; a database is created when missing,
 * then its dump runs in one transaction that stops at the first error (all or nothing).
 */
export function pgRestoreSteps(user: string, part: string): ExecStep[] {
  if (part === "globals.sql") return [{ argv: PSQL, env: pgEnv(user, "postgres") }];
  const db = part.slice("db/".length);
  return [
    { argv: [...PSQL, "-v", "ON_ERROR_STOP=1", "-v", `db=${db}`], env: pgEnv(user, "postgres"), stdin: ENSURE_DB },
    { argv: [...PSQL, "-v", "ON_ERROR_STOP=1", "--single-transaction"], env: pgEnv(user, db) },
  ];
}

/** The part names a Postgres backup may hold (anything else in a file is refused). */
export const isPgPart = (p: string): boolean => p === "globals.sql" || /^db\/[^\0\n]{1,63}$/.test(p);

const MOUNT = "/volume";

/** Name of a volume's part: `volume/<docker volume name>`. */
export const volumePart = (volume: string): string => `volume/${volume}`;

function helper(
  base: { tenant: string; tenantId: string; image: string; volume: string },
  cmd: string[],
  readOnly: boolean,
  capAdd: string[],
  suffix: string,
): HelperSpec {
  return {
    name: `staxa-${base.tenant}-backup-${suffix}`,
    image: base.image,
    cmd,
    volumes: [{ name: base.volume, target: MOUNT, readOnly }],
    capAdd,
    labels: { "staxa.tenant": base.tenant, "staxa.tenant_id": base.tenantId, "staxa.backup": "1" },
  };
}

/**
 * The helper that tars one volume to stdout: the service's own image (its tar, its user names), the volume read
 * only, no network; DAC_READ_SEARCH reads a data dir the service user keeps at mode 0700.
 */
export function tarBackupHelper(
  b: { tenant: string; tenantId: string; image: string; volume: string },
  suffix: string,
): HelperSpec {
  return helper(b, ["tar", "-cf", "-", "-C", MOUNT, "."], true, ["DAC_READ_SEARCH"], suffix);
}

/** Restoring one volume: empty it, then untar stdin into it keeping owners and modes. */
export function tarRestoreHelpers(
  b: { tenant: string; tenantId: string; image: string; volume: string },
  suffix: string,
): HelperSpec[] {
  const caps = ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER"];
  return [
    // rm through -exec, not -delete: BusyBox's find (Debian's, in many small images) has no -delete.
    helper(
      b,
      ["find", MOUNT, "-mindepth", "1", "-maxdepth", "1", "-exec", "rm", "-rf", "{}", "+"],
      false,
      caps,
      `${suffix}-clear`,
    ),
    helper(b, ["tar", "-xpf", "-", "-C", MOUNT], false, caps, `${suffix}-extract`),
  ];
}
