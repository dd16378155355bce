// Every tenant, deployment and service status change goes through one transition table; an illegal one throws and writes nothing.
import { describe, expect, test } from "bun:test";
import type { Db } from "../../../src/store/db.ts";
import {
  IllegalTransition,
  canDeployment,
  canService,
  canTenant,
  moveDeployment,
  moveService,
  moveTenant,
} from "../../../src/core/deploy/states.ts";
import { testApp } from "../../support/ctx.ts";

const untouchable = {
  query() {
    throw new Error("the store was written");
  },
  prepare() {
    throw new Error("the store was written");
  },
} as unknown as Db;

describe("transition tables", () => {
  test.each([
    ["tenant", canTenant("provisioning", "deploying"), true],
    ["tenant", canTenant("ready", "deploying"), true],
    ["tenant", canTenant("deleting", "ready"), false],
    ["tenant", canTenant("ready", "provisioning"), false],
    ["deployment", canDeployment("queued", "failed"), true],
    ["deployment", canDeployment("building", "deploying"), true],
    ["deployment", canDeployment("succeeded", "failed"), false],
    ["deployment", canDeployment("failed", "queued"), false],
    ["service", canService("running", "stopped"), true],
    ["service", canService("pending", "running"), true],
    ["service", canService("removing", "running"), false],
    ["service", canService("no-such-status", "running"), false],
  ])("%s: %p", (_machine, got, want) => {
    expect(got).toBe(want);
  });
});

describe("move*", () => {
  test("an illegal transition throws IllegalTransition naming it, before anything is written", () => {
    expect(() => moveTenant(untouchable, { id: "ten_x", status: "deleting" }, "ready", { updated_at: "now" })).toThrow(
      IllegalTransition,
    );
    expect(() => moveDeployment(untouchable, { id: "dep_x", status: "succeeded" }, "failed")).toThrow(
      "deployment dep_x cannot go from succeeded to failed",
    );
    expect(() => moveService(untouchable, { id: "svc_x", status: "removing" }, "running", { updated_at: "now" })).toThrow(
      IllegalTransition,
    );
  });

  test("a legal one writes the status with its fields and records it on the row", () => {
    const { ctx, provider } = testApp();
    const now = new Date().toISOString();
    ctx.db
      .query(
        `INSERT INTO tenants (id, provider_id, mode, name, status, branch, resource_size, egress_mode, created_at, updated_at)
                  VALUES ('ten_s1', ?, 'live', 'states-a', 'ready', 'main', 'small', 'open', ?, ?)`,
      )
      .run(provider.id, now, now);
    const t = { id: "ten_s1", status: "ready" as const };
    moveTenant(ctx.db, t, "deploying", { status_reason: null, updated_at: now });
    expect(t.status as string).toBe("deploying");
    expect(ctx.db.query("SELECT status FROM tenants WHERE id = 'ten_s1'").get()).toEqual({ status: "deploying" });
  });
});
