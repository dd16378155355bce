// The deploy queue reports its depth (staxa_deploy_queue_depth): work waiting behind its lane, the start-up hold or a build slot.
import { describe, expect, test } from "bun:test";
import { DeployQueue } from "../../../src/core/deploy/queue.ts";

const gate = () => {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
};

describe("DeployQueue depth", () => {
  test("counts tasks held by the start-up hold, then behind their lane, then 0 once all ran", async () => {
    const heard: number[] = [];
    const q = new DeployQueue(2, (d) => heard.push(d));
    const hold = gate();
    q.holdUntil(hold.p);
    const first = gate();
    void q.enqueue("a", () => first.p);
    void q.enqueue("a", async () => {});
    void q.enqueue("b", async () => {});
    expect(q.depth).toBe(3);
    hold.open();
    await Bun.sleep(0);
    expect(q.depth).toBe(1); // lane a's second task waits behind its first
    first.open();
    await q.idle();
    expect(q.depth).toBe(0);
    expect(heard).toEqual([1, 2, 3, 2, 1, 0]);
  });

  test("a running task waiting for a build slot is counted until it gets one", async () => {
    const q = new DeployQueue(1);
    const build = gate();
    void q.enqueue("a", () => q.withBuildSlot(() => build.p));
    const second = q.enqueue("b", () => q.withBuildSlot(async () => {}));
    await Bun.sleep(0);
    expect([q.activeBuilds, q.depth]).toEqual([1, 1]);
    build.open();
    await second;
    expect(q.depth).toBe(0);
  });
});
