// Retention as a table: scheduled backups only, the newest `keep` per service, failed ones only while nothing newer succeeded.
import { describe, expect, test } from "bun:test";
import { planRetention } from "../../../src/core/backups/retention-plan.ts";
import type { BackupRow } from "../../../src/store/backups.ts";

type R = Pick<BackupRow, "id" | "service" | "kind" | "status" | "created_at">;
const r = (id: string, day: number, status: R["status"] = "succeeded", kind: R["kind"] = "scheduled", service = "db"): R => ({
  id,
  service,
  kind,
  status,
  created_at: `2030-01-${String(day).padStart(2, "0")}T03:00:00.000Z`,
});

const cases: Array<[string, R[], number, string[]]> = [
  ["nothing to do under keep", [r("a", 1), r("b", 2)], 3, []],
  ["the oldest beyond keep go, oldest first", [r("a", 1), r("b", 2), r("c", 3), r("d", 4)], 2, ["a", "b"]],
  ["manual backups are never pruned", [r("m", 1, "succeeded", "manual"), r("a", 2), r("b", 3)], 1, ["a"]],
  ["queued and running ones are never touched", [r("a", 1), r("q", 2, "queued"), r("x", 3, "running"), r("b", 4)], 1, ["a"]],
  ["a failed one older than a success goes", [r("f", 1, "failed"), r("a", 2)], 5, ["f"]],
  ["a failed one newer than every success stays", [r("a", 1), r("f", 2, "failed")], 5, []],
  ["failed ones with no success: at most keep", [r("f1", 1, "failed"), r("f2", 2, "failed"), r("f3", 3, "failed")], 2, ["f1"]],
  [
    "services are counted apart",
    [r("a", 1, "succeeded", "scheduled", "db"), r("b", 2, "succeeded", "scheduled", "cache"), r("c", 3)],
    1,
    ["a"],
  ],
  ["keep 1 with a fresh failure keeps the last success and the failure", [r("a", 1), r("b", 2), r("f", 3, "failed")], 1, ["a"]],
];

describe("planRetention", () => {
  for (const [what, rows, keep, out] of cases) test(what, () => expect(planRetention(rows, keep)).toEqual(out));
});
