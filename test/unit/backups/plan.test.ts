// What a backup runs, as data: the method per service, the Postgres commands (argv, values in env), the tar helpers.
import { describe, expect, test } from "bun:test";
import * as plan from "../../../src/core/backups/plan.ts";
import type { BackupMethod } from "../../../src/store/backups.ts";

const vol = [{ name: "staxa-t.db.data", target: "/var/lib/postgresql/data" }];

describe("methodFor", () => {
  const cases: Array<[string, string | null, boolean, boolean, BackupMethod | undefined]> = [
    ["a running Postgres is dumped", "postgres:16-alpine", true, true, "pg_dump"],
    ["a registry-qualified Postgres too", "registry:5000/team/postgres:16", false, true, "pg_dump"],
    ["the local stand-in too", "staxa-test/postgres:15", true, true, "pg_dump"],
    ["a stopped Postgres with a volume is tarred", "postgres:16", true, false, "volume_tar"],
    ["a Redis with a volume is tarred", "redis:7-alpine", true, true, "volume_tar"],
    ["a stopped Postgres without a volume holds nothing", "postgres:16", false, false, undefined],
    ["an app without a volume holds nothing", null, false, true, undefined],
  ];
  for (const [what, image, withVol, running, want] of cases)
    test(what, () => expect(plan.methodFor({ image, volumes: withVol ? vol : [], running })).toBe(want));
});

describe("Postgres commands", () => {
  test("the user is POSTGRES_USER, else postgres", () => {
    expect(plan.pgUser({ POSTGRES_USER: "app" })).toBe("app");
    expect(plan.pgUser({})).toBe("postgres");
  });

  test("a dump is the roles, then one plain dump per database, names in env never in argv", () => {
    const steps = plan.pgDumpSteps("app", ["app", "host=evil dbname=x"]);
    expect(steps).toEqual([
      {
        part: "globals.sql",
        argv: ["pg_dumpall", "--globals-only", "--no-password"],
        env: { PGUSER: "app", PGDATABASE: "postgres" },
      },
      { part: "db/app", argv: ["pg_dump", "--clean", "--if-exists", "--no-password"], env: { PGUSER: "app", PGDATABASE: "app" } },
      {
        part: "db/host=evil dbname=x",
        argv: ["pg_dump", "--clean", "--if-exists", "--no-password"],
        env: { PGUSER: "app", PGDATABASE: "host=evil dbname=x" },
      },
    ]);
  });

  test("a database is restored after it is created when missing, in one transaction stopping at the first error", () => {
    const [ensure, load] = plan.pgRestoreSteps("app", "db/shop");
    expect(ensure!.argv).toEqual(["psql", "-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1", "-v", "db=shop"]);
    expect(ensure!.stdin).toContain("CREATE DATABASE %I");
    expect(ensure!.stdin).toContain(":'db'"); // quoted by psql, never pasted into the SQL
    expect(load).toEqual({
      argv: ["psql", "-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1", "--single-transaction"],
      env: { PGUSER: "app", PGDATABASE: "shop" },
    });
    expect(plan.pgRestoreSteps("app", "globals.sql")).toEqual([
      { argv: ["psql", "-X", "-q", "--no-password"], env: { PGUSER: "app", PGDATABASE: "postgres" } },
    ]);
  });

  test("only the parts a dump writes are restored", () => {
    expect(["globals.sql", "db/app", "volume/x", "db/", "../etc"].map(plan.isPgPart)).toEqual([true, true, false, false, false]);
  });
});

describe("tar helpers", () => {
  const base = { tenant: "shop", tenantId: "ten_1", image: "sha256:abc", volume: "staxa-shop.db.data" };
  test("a backup reads the volume read-only with the service's image, one capability", () => {
    expect(plan.tarBackupHelper(base, "x1")).toEqual({
      name: "staxa-shop-backup-x1",
      image: "sha256:abc",
      cmd: ["tar", "-cf", "-", "-C", "/volume", "."],
      volumes: [{ name: "staxa-shop.db.data", target: "/volume", readOnly: true }],
      capAdd: ["DAC_READ_SEARCH"],
      labels: { "staxa.tenant": "shop", "staxa.tenant_id": "ten_1", "staxa.backup": "1" },
    });
  });
  test("a restore empties the volume (find -exec rm: BusyBox's find has no -delete), then untars stdin into it", () => {
    const [clear, extract] = plan.tarRestoreHelpers(base, "x1");
    expect(clear!.cmd).toEqual(["find", "/volume", "-mindepth", "1", "-maxdepth", "1", "-exec", "rm", "-rf", "{}", "+"]);
    expect(extract!.cmd).toEqual(["tar", "-xpf", "-", "-C", "/volume"]);
    expect([clear!.volumes[0]!.readOnly, extract!.volumes[0]!.readOnly]).toEqual([false, false]);
    expect(clear!.labels["staxa.managed"]).toBeUndefined(); // reconciliation never takes a helper for a service
  });
});
